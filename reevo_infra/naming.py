"""Logical names and tags (no Pulumi here)."""

from __future__ import annotations

from collections.abc import Mapping


def child_name(component: str, *parts: str | int) -> str:
    """The logical name of a component's child: `{component}-{part}-...`, kebab case."""
    return "-".join([component, *(str(p) for p in parts)])


def base_tags(
    *,
    project: str,
    stack: str,
    environment: str,
    owner: str,
    cost_center: str,
    data_classification: str,
) -> dict[str, str]:
    """The tags every taggable resource carries (RNF-S-04: environment, owner, data class)."""
    return {
        "Project": project,
        "Stack": stack,
        "Environment": environment,
        "Owner": owner,
        "CostCenter": cost_center,
        "DataClassification": data_classification,
        "ManagedBy": "pulumi",
    }


def tags(base: Mapping[str, str], name: str, **extra: str) -> dict[str, str]:
    """Base tags, then the component's own, then `Name` last so nothing overrides it."""
    return {**base, **extra, "Name": name}
