"""Checks for RNF-S-04: residency, private networking, TLS, audit logs, tags."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reevo_infra.checks.view import (
    ADDON,
    ALLOWED_REGIONS,
    ANYWHERE,
    AWS_PROVIDER,
    CACHE,
    CACHE_SUBNETS,
    DEPLOYMENT,
    DOMAIN,
    EKS,
    FLOW_LOG,
    IGW,
    LOG_GROUP,
    NETWORK_POLICY,
    NODE_GROUP,
    RDS,
    RDS_PARAMS,
    RDS_SUBNETS,
    REQUIRED_TAGS,
    SG_INGRESS,
    SG_RULE,
    SUBNET,
    VPC,
    WEB_ACL,
    WEB_ACL_LOGGING,
    Finding,
    Resource,
    by_id,
    get,
    ident,
    items,
    name_ns,
    not_in_tier,
    of_type,
    on,
    route_table_of,
    routes_of,
    subnet_tier,
)
from reevo_infra.config import LOG_RETENTION_DAYS


def region(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    value = props.get("region")
    return None if value in ALLOWED_REGIONS else f"region {value!r} is outside Brazil"


def regional_provider(resources: Sequence[Resource]) -> list[Finding]:
    providers = {p.urn: p for p in of_type(resources, AWS_PROVIDER)}
    found = []
    for r in resources:
        if not r.type.startswith("aws:"):
            continue
        provider = providers.get(r.provider)
        ok = provider is not None and provider.props.get("region") in ALLOWED_REGIONS
        found.append(
            Finding(
                r.urn,
                ok,
                "" if ok else f"provider {r.provider or 'default'} is not pinned to sa-east-1",
            )
        )
    return found


def no_public_database(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    return "publiclyAccessible is true" if on(props.get("publiclyAccessible")) else None


def data_in_isolated_subnets(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for group in of_type(resources, RDS_SUBNETS, CACHE_SUBNETS):
        outside = not_in_tier(resources, group.props.get("subnetIds"), "data")
        ok = bool(items(group.props.get("subnetIds"))) and not outside
        found.append(
            Finding(group.urn, ok, "" if ok else f"subnets outside the data tier: {outside}")
        )
    return found


def private_subnets(resources: Sequence[Resource]) -> list[Finding]:
    igws = set(by_id(resources, IGW))
    found = []
    for subnet in of_type(resources, SUBNET):
        tier = subnet_tier(subnet)
        if tier == "public":
            continue
        problems = []
        if on(subnet.props.get("mapPublicIpOnLaunch")):
            problems.append("maps public IPs")
        table = route_table_of(resources, subnet)
        if table is None:
            problems.append("no route table association")
        else:
            routes = routes_of(resources, table)
            if any(r.props.get("gatewayId") in igws for r in routes):
                problems.append(f"{table.name} routes to an internet gateway")
            if tier == "data" and routes:
                problems.append(f"{table.name} has routes beyond the VPC's local one")
        found.append(Finding(subnet.urn, not problems, "; ".join(problems)))
    return found


def no_world_ingress(typ: str, props: Mapping[str, Any], _env: str) -> str | None:
    if typ == SG_INGRESS:
        cidrs = [props.get("cidrIpv4"), props.get("cidrIpv6")]
    elif typ == SG_RULE:
        if props.get("type") != "ingress":
            return None
        cidrs = items(props.get("cidrBlocks")) + items(props.get("ipv6CidrBlocks"))
    else:
        cidrs = [
            c
            for rule in items(props.get("ingress"))
            for c in items(get(rule, "cidrBlocks")) + items(get(rule, "ipv6CidrBlocks"))
        ]
    wide = [c for c in cidrs if c in ANYWHERE]
    return f"admits {wide[0]}" if wide else None


def tls_in_transit(typ: str, props: Mapping[str, Any], _env: str) -> str | None:
    if typ == RDS:
        group = str(props.get("parameterGroupName") or "")
        if not group or group.startswith("default."):
            return "uses a default parameter group, which does not force TLS"
    elif typ == RDS_PARAMS:
        if str(props.get("family", "")).startswith("postgres"):
            params = {get(p, "name"): str(get(p, "value")) for p in items(props.get("parameters"))}
            if params.get("rds.force_ssl") != "1":
                return "rds.force_ssl is not 1"
    elif typ == CACHE:
        if not on(props.get("transitEncryptionEnabled")):
            return "transitEncryptionEnabled is not true"
    elif typ == DOMAIN and str(props.get("securityPolicy", "TLS_1_0")).upper() == "TLS_1_0":
        return "securityPolicy allows TLS 1.0"
    return None


def flow_logs(resources: Sequence[Resource]) -> list[Finding]:
    groups = {str(g.props.get("arn")) for g in of_type(resources, LOG_GROUP)}
    found = []
    for vpc in of_type(resources, VPC):
        ok = any(
            f.props.get("vpcId") == ident(vpc)
            and f.props.get("trafficType") == "ALL"
            and f.props.get("logDestination") in groups
            for f in of_type(resources, FLOW_LOG)
        )
        found.append(
            Finding(
                vpc.urn, ok, "" if ok else "no flow log of ALL traffic to a registered log group"
            )
        )
    return found


def log_retention(_t: str, props: Mapping[str, Any], env: str) -> str | None:
    days = props.get("retentionInDays")
    if not days:
        return "retentionInDays unset or 0: kept forever"
    if int(days) not in LOG_RETENTION_DAYS:
        return f"retentionInDays {days} is not a CloudWatch retention value"
    if env == "prod" and int(days) < 180:
        return f"retentionInDays {days} < 180 (Marco Civil)"
    return None


def audit_logs(typ: str, props: Mapping[str, Any], _env: str) -> str | None:
    if typ == EKS:
        kinds = set(items(props.get("enabledClusterLogTypes")))
        missing = {"api", "audit", "authenticator"} - kinds
        return f"enabledClusterLogTypes lacks {sorted(missing)}" if missing else None
    if typ == RDS:
        exports = items(props.get("enabledCloudwatchLogsExports"))
        return None if "postgresql" in exports else "enabledCloudwatchLogsExports lacks postgresql"
    if not get(props, "accessLogSettings.destinationArn"):
        return "accessLogSettings.destinationArn is not set"
    return None


def waf_logs(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for acl in of_type(resources, WEB_ACL):
        arn = acl.props.get("arn")
        configs = [
            c for c in of_type(resources, WEB_ACL_LOGGING) if c.props.get("resourceArn") == arn
        ]
        redacted = {
            str(get(f, "singleHeader.name", "")).lower()
            for c in configs
            for f in items(c.props.get("redactedFields"))
        }
        problems = []
        if not configs:
            problems.append("no logging configuration")
        elif "authorization" not in redacted:
            problems.append("the Authorization header is not redacted")
        found.append(Finding(acl.urn, not problems, "; ".join(problems)))
    return found


def eks_endpoint(_t: str, props: Mapping[str, Any], env: str) -> str | None:
    public = on(get(props, "vpcConfig.endpointPublicAccess", True))
    cidrs = items(get(props, "vpcConfig.publicAccessCidrs"))
    if public and env == "prod":
        return "vpcConfig.endpointPublicAccess is true in prod"
    if public and (not cidrs or any(c in ANYWHERE for c in cidrs)):
        return "public endpoint open to 0.0.0.0/0 (vpcConfig.publicAccessCidrs)"
    if not on(get(props, "vpcConfig.endpointPrivateAccess")):
        return "vpcConfig.endpointPrivateAccess is not true"
    return None


def node_groups_private(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for ng in of_type(resources, NODE_GROUP):
        outside = not_in_tier(resources, ng.props.get("subnetIds"), "app")
        ok = bool(items(ng.props.get("subnetIds"))) and not outside
        found.append(
            Finding(ng.urn, ok, "" if ok else f"subnets outside the private app tier: {outside}")
        )
    return found


def network_policies(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for cluster in of_type(resources, EKS):
        enforced = False
        for addon in of_type(resources, ADDON):
            if addon.props.get("addonName") == "vpc-cni":
                values = json.loads(str(addon.props.get("configurationValues") or "{}"))
                enforced = str(values.get("enableNetworkPolicy")).lower() == "true"
        found.append(
            Finding(
                cluster.urn,
                enforced,
                "" if enforced else "vpc-cni addon without enableNetworkPolicy",
            )
        )
    namespaces = {name_ns(d)[1] for d in of_type(resources, DEPLOYMENT)}
    for ns in sorted(namespaces):
        deny = [
            p
            for p in of_type(resources, NETWORK_POLICY)
            if name_ns(p)[1] == ns
            and not get(p.props, "spec.podSelector.matchLabels")
            and not get(p.props, "spec.podSelector.matchExpressions")
            and "Ingress" in items(get(p.props, "spec.policyTypes"))
            and not items(get(p.props, "spec.ingress"))
        ]
        urn = (
            deny[0].urn
            if deny
            else next(d.urn for d in of_type(resources, DEPLOYMENT) if name_ns(d)[1] == ns)
        )
        found.append(
            Finding(
                urn, bool(deny), "" if deny else f"namespace {ns} has no default-deny NetworkPolicy"
            )
        )
    return found


def required_tags(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    tags = props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not get(tags, t)]
    return f"tags lack {missing}" if missing else None
