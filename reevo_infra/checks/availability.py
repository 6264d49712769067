"""Checks for RNF-CF-01 (availability), RNF-CF-03 (backups, protection) and RNF-ED-01 (scaling)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reevo_infra.checks.view import (
    ALARM,
    CACHE,
    DEPLOYMENT,
    KMS_KEY,
    METHOD_SETTINGS,
    NAT,
    NODE_GROUP,
    PDB,
    RDS,
    STAGE,
    SUBNET,
    VPC,
    Finding,
    Resource,
    by_id,
    env_is_prod,
    finding,
    get,
    hpa_for,
    ident,
    is_list,
    items,
    name_ns,
    of_type,
    on,
    route_table_of,
    routes_of,
    subnet_tier,
)


def az_count(resources: Sequence[Resource]) -> list[Finding]:
    need = 3 if env_is_prod(resources) else 2
    found = []
    for vpc in of_type(resources, VPC):
        azs = {
            get(s.props, "availabilityZone")
            for s in of_type(resources, SUBNET)
            if s.props.get("vpcId") == ident(vpc)
        }
        ok = len(azs) >= need
        found.append(Finding(vpc.urn, ok, "" if ok else f"spans {len(azs)} AZs, needs {need}"))
    return found


def nat_per_az(resources: Sequence[Resource]) -> list[Finding]:
    nats = of_type(resources, NAT)
    if not of_type(resources, VPC):
        return []
    if not nats:
        return [Finding(vpc.urn, False, "no NAT gateway") for vpc in of_type(resources, VPC)]
    if not env_is_prod(resources):
        return [Finding(n.urn, True) for n in nats]
    subnets = by_id(resources, SUBNET)
    nat_az = {}
    for nat in nats:
        subnet = subnets.get(str(nat.props.get("subnetId")))
        if subnet is not None:
            nat_az[ident(nat)] = subnet.props.get("availabilityZone")
    found = []
    for subnet in of_type(resources, SUBNET):
        if subnet_tier(subnet) != "app":
            continue
        az = subnet.props.get("availabilityZone")
        table = route_table_of(resources, subnet)
        routes = routes_of(resources, table) if table else []
        via = [
            nat_az.get(str(r.props.get("natGatewayId")))
            for r in routes
            if r.props.get("destinationCidrBlock") == "0.0.0.0/0"
        ]
        ok = via == [az]
        found.append(
            Finding(
                subnet.urn,
                ok,
                "" if ok else f"egress from {az} goes through NATs in {via or 'no AZ'}",
            )
        )
    return found


def rds_multi_az(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    return None if on(props.get("multiAz")) else "multiAz is not true"


def cache_ha(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []
    if int(props.get("numCacheClusters") or 0) < 2:
        problems.append("numCacheClusters < 2")
    if not on(props.get("automaticFailoverEnabled")):
        problems.append("automaticFailoverEnabled is not true")
    if not on(props.get("multiAzEnabled")):
        problems.append("multiAzEnabled is not true")
    return "; ".join(problems) or None


def node_groups_span_azs(resources: Sequence[Resource]) -> list[Finding]:
    app = {ident(s) for s in of_type(resources, SUBNET) if subnet_tier(s) == "app"}
    azs = {get(s.props, "availabilityZone") for s in of_type(resources, SUBNET)}
    found = []
    for ng in of_type(resources, NODE_GROUP):
        problems = []
        missing = app - {str(s) for s in items(ng.props.get("subnetIds"))}
        if missing:
            problems.append(f"misses app subnets {sorted(missing)}")
        min_size = int(get(ng.props, "scalingConfig.minSize") or 0)
        if env_is_prod(resources) and min_size < len(azs):
            problems.append(f"scalingConfig.minSize {min_size} < {len(azs)} AZs")
        found.append(Finding(ng.urn, not problems, "; ".join(problems)))
    return found


def _containers(deployment_props: Mapping[str, Any]) -> list[Any]:
    return items(get(deployment_props, "spec.template.spec.containers"))


def workload_probes(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    bad = [
        str(get(k, "name"))
        for k in _containers(props)
        if not get(k, "livenessProbe") or not get(k, "readinessProbe")
    ]
    return f"containers without liveness/readiness probes: {bad}" if bad else None


def workload_ha(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for d in of_type(resources, DEPLOYMENT):
        problems = []
        hpa = hpa_for(resources, d)
        floor = (
            int(get(hpa.props, "spec.minReplicas") or 1)
            if hpa
            else int(get(d.props, "spec.replicas") or 1)
        )
        if floor < 2:
            problems.append(f"runs {floor} replica(s)")
        spread = items(get(d.props, "spec.template.spec.topologySpreadConstraints"))
        if not any(get(s, "topologyKey") == "topology.kubernetes.io/zone" for s in spread):
            problems.append("no topology spread across zones")
        labels = get(d.props, "spec.template.metadata.labels") or {}
        ns = name_ns(d)[1]
        pdbs = [
            p
            for p in of_type(resources, PDB)
            if name_ns(p)[1] == ns
            and all(
                labels.get(k) == v
                for k, v in (get(p.props, "spec.selector.matchLabels") or {}).items()
            )
        ]
        if not pdbs:
            problems.append("no PodDisruptionBudget selects it")
        found.append(Finding(d.urn, not problems, "; ".join(problems)))
    return found


_ALARM_NAMESPACES = {
    RDS: ("AWS/RDS",),
    CACHE: ("AWS/ElastiCache",),
    STAGE: ("AWS/ApiGateway",),
    NODE_GROUP: ("ContainerInsights", "AWS/EC2", "AWS/AutoScaling"),
}


def _namespaces(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        own = {str(value["namespace"])} if "namespace" in value else set()
        return own.union(*(_namespaces(v) for v in value.values()))
    if is_list(value):
        return set().union(*(_namespaces(v) for v in value))
    return set()


def alarms(resources: Sequence[Resource]) -> list[Finding]:
    wired = [a for a in of_type(resources, ALARM) if items(a.props.get("alarmActions"))]
    covered = set().union(*(_namespaces(a.props) for a in wired))
    found = []
    for typ, namespaces in _ALARM_NAMESPACES.items():
        for r in of_type(resources, typ):
            ok = bool(covered.intersection(namespaces))
            found.append(
                Finding(
                    r.urn, ok, "" if ok else f"no alarm with an action on {' or '.join(namespaces)}"
                )
            )
    return found


def rds_backups(_t: str, props: Mapping[str, Any], env: str) -> str | None:
    need = 7 if env == "prod" else 1
    days = int(props.get("backupRetentionPeriod") or 0)
    return None if days >= need else f"backupRetentionPeriod {days} < {need}"


def rds_deletion_safety(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []
    if not on(props.get("deletionProtection")):
        problems.append("deletionProtection is not true")
    if on(props.get("skipFinalSnapshot")) or not props.get("finalSnapshotIdentifier"):
        problems.append("no final snapshot (skipFinalSnapshot / finalSnapshotIdentifier)")
    if not on(props.get("copyTagsToSnapshot")):
        problems.append("copyTagsToSnapshot is not true")
    return "; ".join(problems) or None


def cache_snapshots(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    days = int(props.get("snapshotRetentionLimit") or 0)
    return None if days >= 1 else "snapshotRetentionLimit is 0: no daily snapshots"


def stateful_protected(resources: Sequence[Resource]) -> list[Finding]:
    return [
        Finding(r.urn, r.protect, "" if r.protect else "not protected in Pulumi")
        for r in of_type(resources, RDS, CACHE, KMS_KEY)
    ]


def node_autoscaling(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    low = int(get(props, "scalingConfig.minSize") or 0)
    high = int(get(props, "scalingConfig.maxSize") or 0)
    return None if low < high else f"scalingConfig minSize {low} !< maxSize {high}"


def workload_hpa(resources: Sequence[Resource]) -> list[Finding]:
    return [
        finding(d.urn, hpa_for(resources, d) is not None, "no HorizontalPodAutoscaler targets it")
        for d in of_type(resources, DEPLOYMENT)
    ]


def rds_storage_autoscaling(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    low = int(props.get("allocatedStorage") or 0)
    high = int(props.get("maxAllocatedStorage") or 0)
    return None if high > low else f"maxAllocatedStorage {high} <= allocatedStorage {low}"


def _same_stage(r: Resource, stage: Resource) -> bool:
    return r.props.get("restApi") == stage.props.get("restApi") and r.props.get(
        "stageName"
    ) == stage.props.get("stageName")


def api_throttling(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for stage in of_type(resources, STAGE):
        ok = any(
            _same_stage(m, stage)
            and float(get(m.props, "settings.throttlingRateLimit") or 0) > 0
            and int(get(m.props, "settings.throttlingBurstLimit") or 0) > 0
            for m in of_type(resources, METHOD_SETTINGS)
        )
        found.append(
            Finding(
                stage.urn,
                ok,
                "" if ok else "no methodSettings with throttlingRateLimit and BurstLimit",
            )
        )
    return found
