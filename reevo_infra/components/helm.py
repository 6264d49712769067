"""One way to install a pinned Helm chart, shared by every component that installs one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import RepositoryOptsArgs


def release(
    logical_name: str,
    *,
    name: str,
    chart: str,
    version: str,
    repo: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm release of `chart` at exactly `version`, all-or-nothing.

    `opts` must carry the parent and the explicit Kubernetes provider.
    """
    return k8s.helm.v3.Release(
        logical_name,
        name=name,
        chart=chart,
        version=version,
        repository_opts=RepositoryOptsArgs(repo=repo),
        namespace=namespace,
        values=dict(values),
        # A failed install or upgrade rolls back instead of leaving a half-applied chart.
        atomic=True,
        cleanup_on_fail=True,
        # Helm's default 5 minutes is short for a first install on nodes still joining.
        timeout=900,
        max_history=10,
        opts=opts,
    )
