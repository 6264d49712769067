"""Checks for RNF-P-01 (portable workloads) and RF-CAD-002 (the authenticated gateway)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reevo_infra.checks.view import (
    STAGE,
    WAF_MANAGED_RULES,
    WEB_ACL_ASSOC,
    Finding,
    Resource,
    finding,
    get,
    is_list,
    of_type,
)


def behind_components(resources: Sequence[Resource]) -> list[Finding]:
    types = {r.urn: r.type for r in resources}
    return [
        finding(
            r.urn, types.get(r.parent, "").startswith("reevo:"), "not parented to a reevo component"
        )
        for r in resources
        if r.type.startswith("aws:")
    ]


def _aws_only(value: Any, path: str = "") -> list[str]:
    """Paths in a Kubernetes object that only mean something on AWS (images excepted)."""
    if isinstance(value, Mapping):
        return [
            p
            for k, v in value.items()
            if k != "image"
            for p in ([f"{path}.{k}"] if "amazonaws.com" in str(k) else [])
            + _aws_only(v, f"{path}.{k}")
        ]
    if is_list(value):
        return [p for i, v in enumerate(value) for p in _aws_only(v, f"{path}.{i}")]
    return [path] if isinstance(value, str) and "amazonaws.com" in value else []


def plain_workloads(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    found = _aws_only({"metadata": props.get("metadata"), "spec": props.get("spec")})
    return f"AWS-only fields: {found[:3]}" if found else None


def method_authorizer(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    kind = props.get("authorization")
    if kind not in ("COGNITO_USER_POOLS", "CUSTOM", "AWS_IAM"):
        return f"authorization is {kind!r}"
    if kind != "AWS_IAM" and not props.get("authorizerId"):
        return f"authorization {kind} without an authorizerId"
    return None


def waf_on_stages(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for stage in of_type(resources, STAGE):
        suffix = f"/restapis/{stage.props.get('restApi')}/stages/{stage.props.get('stageName')}"
        ok = any(
            str(a.props.get("resourceArn", "")).endswith(suffix)
            or a.props.get("resourceArn") == stage.props.get("arn")
            for a in of_type(resources, WEB_ACL_ASSOC)
            if a.props.get("webAclArn")
        )
        found.append(Finding(stage.urn, ok, "" if ok else "no WAF web ACL association"))
    return found


def _statements(value: Any, kind: str) -> list[Any]:
    """Every `kind` statement nested anywhere in a web ACL's rules (camel or Pascal case)."""
    if isinstance(value, Mapping):
        own = [v for k, v in value.items() if k.lower() == kind.lower()]
        return own + [s for v in value.values() for s in _statements(v, kind)]
    if is_list(value):
        return [s for v in value for s in _statements(v, kind)]
    return []


def waf_rules(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    rules: Any = props.get("rules")
    if props.get("ruleJson"):
        rules = json.loads(str(props.get("ruleJson")))
    managed = {
        str(get(s, "name") or get(s, "Name"))
        for s in _statements(rules, "managedRuleGroupStatement")
    }
    problems = [f"lacks {m}" for m in WAF_MANAGED_RULES if m not in managed]
    if not _statements(rules, "rateBasedStatement"):
        problems.append("no rate-based rule")
    if props.get("scope") != "REGIONAL":
        problems.append("scope is not REGIONAL (a REST API stage needs REGIONAL)")
    return "; ".join(problems) or None


def private_integration(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    if props.get("type") in ("HTTP", "HTTP_PROXY") and props.get("connectionType") != "VPC_LINK":
        return "an HTTP integration outside a VPC link reaches a public endpoint"
    return None
