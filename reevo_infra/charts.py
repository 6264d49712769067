"""Pinned Helm charts and namespace sizing for the in-cluster platform (no Pulumi here)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"
TRAEFIK_REPO = "https://traefik.github.io/charts"
EXTERNAL_SECRETS_REPO = "https://charts.external-secrets.io"

# Cluster Autoscaler simulates the scheduler of one Kubernetes minor, so its chart is pinned
# per minor. 9.53.0 ships CA 1.34.2; 9.54.0 is the first chart on CA 1.35.0
# (kubernetes/autoscaler README table, issues #8891 and #10097).
CLUSTER_AUTOSCALER_CHARTS: dict[str, str] = {"1.34": "9.53.0", "1.35": "9.54.0"}

# The External Secrets Operator tests each minor against one or two Kubernetes minors only
# (its "Stability and Support" table): 2.7 is the release line tested on 1.35.
EXTERNAL_SECRETS_CHARTS: dict[str, str] = {"1.35": "2.7.0"}

# The ingress controller (Traefik Proxy) serves the plain Ingress objects of the workloads.
# Chart 41.4.0 ships Traefik v3.7.12; from chart 40 on it declares Kubernetes >= 1.25 and
# k3s 1.35 releases bundle chart 40 (Traefik 3.7). The values syntax differs per chart major
# (40 moved the Service type under service.spec, 41 renamed logs to log/accessLog), so a
# new row here means re-checking the values in platform.py.
TRAEFIK_CHARTS: dict[str, str] = {"1.35": "41.4.0"}

METRICS_SERVER_CHART = "3.13.0"
"""metrics-server v0.8.0; it serves the metrics.k8s.io API the HPAs read."""

INGRESS_CLASS = "traefik"


@dataclass(frozen=True)
class Footprint:
    """What one service may claim at its largest: replica ceiling and per-pod requests."""

    max_replicas: int
    cpu: str
    memory: str


def millicores(cpu: str) -> int:
    """'250m' -> 250, '2' -> 2000."""
    if not re.fullmatch(r"\d+m?", cpu):
        raise ValueError(f"not a CPU quantity: {cpu!r}")
    return int(cpu[:-1]) if cpu.endswith("m") else int(cpu) * 1000


def mebibytes(memory: str) -> int:
    """'256Mi' -> 256, '1Gi' -> 1024."""
    match = re.fullmatch(r"(\d+)(Mi|Gi)", memory)
    if not match:
        raise ValueError(f"not a memory quantity: {memory!r}")
    return int(match[1]) * (1024 if match[2] == "Gi" else 1)


CPU_LIMIT_FACTOR = 2
"""CPU limit = 2 x request: room for bursts, while a runaway pod cannot starve its node."""


def container_limits(cpu: str, memory: str) -> dict[str, str]:
    """Limits for a container: memory equal to its request, so the node never overcommits it."""
    return {"cpu": f"{millicores(cpu) * CPU_LIMIT_FACTOR}m", "memory": memory}


def namespace_quota(services: Iterable[Footprint]) -> dict[str, str]:
    """A ResourceQuota that fits every service at its ceiling plus one surge pod each.

    The surge pod is the rolling update's extra replica; without it a deploy at full scale
    would be refused by the quota. Services of type LoadBalancer or NodePort are refused
    outright: traffic enters only through the ingress controller.
    """
    pods = cpu = memory = 0
    for svc in services:
        count = svc.max_replicas + 1
        pods += count
        cpu += count * millicores(svc.cpu)
        memory += count * mebibytes(svc.memory)
    return {
        "pods": str(pods),
        "requests.cpu": f"{cpu}m",
        "requests.memory": f"{memory}Mi",
        "limits.cpu": f"{cpu * CPU_LIMIT_FACTOR}m",
        "limits.memory": f"{memory}Mi",
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }


DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
"""What a container that states no requests gets from the LimitRange."""

DEFAULT_LIMIT = {"cpu": "200m", "memory": "128Mi"}


def container_max(services: Iterable[Footprint]) -> dict[str, str]:
    """The LimitRange ceiling: the largest limits any configured service asks for."""
    cpu = millicores(DEFAULT_LIMIT["cpu"])
    memory = mebibytes(DEFAULT_LIMIT["memory"])
    for svc in services:
        limits = container_limits(svc.cpu, svc.memory)
        cpu = max(cpu, millicores(limits["cpu"]))
        memory = max(memory, mebibytes(limits["memory"]))
    return {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}
