"""The check functions behind `requirements.PROPERTIES`, and the resource view they read.

Resource checks take `(resource_type, props, environment)` and return why the resource breaks
the property, or None. Stack checks take every resource and return one `Finding` per resource
they judged. Values are read through `Mapping`/`Sequence` only (never `dict`/`list`), because
the policy engine hands in read-only proxies; a value unknown at preview raises from the
proxy and the engine reports the policy as not runnable yet, so nothing here catches it.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
IGW = "aws:ec2/internetGateway:InternetGateway"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RDS = "aws:rds/instance:Instance"
RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup"
RDS_SUBNETS = "aws:rds/subnetGroup:SubnetGroup"
CACHE = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_SUBNETS = "aws:elasticache/subnetGroup:SubnetGroup"
SECRET = "aws:secretsmanager/secret:Secret"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ECR = "aws:ecr/repository:Repository"
SNS = "aws:sns/topic:Topic"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
METHOD = "aws:apigateway/method:Method"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
INTEGRATION = "aws:apigateway/integration:Integration"
DOMAIN = "aws:apigateway/domainName:DomainName"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
AWS_PROVIDER = "pulumi:providers:aws"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_SERVICE = "kubernetes:core/v1:Service"

ENCRYPTED_STORES = (RDS, CACHE, EKS, NODE_GROUP, LAUNCH_TEMPLATE, LOG_GROUP, SECRET, ECR, SNS)
INGRESS_RULES = (SG, SG_RULE, SG_INGRESS)
WORKLOADS = (DEPLOYMENT, K8S_SERVICE)

ALLOWED_REGIONS = frozenset({"sa-east-1"})
"""LGPD data residency (RNF-S-04). A stack in another region needs this changed on purpose."""
# CloudWatch's retention values; a missing or 0 retention means "never expire" (LGPD art. 16).
LOG_RETENTION_DAYS = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)
REQUIRED_TAGS = ("Environment", "Owner", "DataClassification")
WAF_MANAGED_RULES = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
ANYWHERE = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Resource:
    """The minimal view of a registered resource that every check reads."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str = ""
    provider: str = ""
    """URN of the resource's provider, without the `::id` suffix."""
    id: str = ""


@dataclass(frozen=True)
class Finding:
    """One resource's result under a stack-scoped property."""

    urn: str
    ok: bool
    message: str = ""


def stack_of(urn: str) -> str:
    """The stack segment of `urn:pulumi:<stack>::<project>::...`."""
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def stack_environment(resources: Iterable[Resource]) -> str:
    """The stack's environment: the first Environment tag seen, else the stack name."""
    first = ""
    for r in resources:
        env = get(r.props, "tags.Environment")
        if isinstance(env, str) and env:
            return env
        first = first or stack_of(r.urn)
    return first


def get(props: Any, path: str, default: Any = None) -> Any:
    """A value by dotted path (`vpcConfig.endpointPublicAccess`); list parts are indexes."""
    value = props
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif _is_list(value) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def items(value: Any) -> list[Any]:
    """A list input as a list: None is empty, a single value is a list of one."""
    if value is None:
        return []
    return list(value) if _is_list(value) else [value]


def on(value: Any) -> bool:
    """True for `true` and `"true"` (some v7 inputs, e.g. launch template `encrypted`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def ident(r: Resource) -> str:
    return r.id or str(r.props.get("id") or "")


def by_id(resources: Iterable[Resource], *types: str) -> dict[str, Resource]:
    return {ident(r): r for r in of_type(resources, *types) if ident(r)}


def _customer_key(value: Any) -> bool:
    # An AWS-managed key (alias/aws/...) cannot be audited or revoked per purpose.
    return isinstance(value, str) and bool(value) and "alias/aws/" not in value


def _env_is_prod(resources: Sequence[Resource]) -> bool:
    return stack_environment(resources) == "prod"


# ---- networking helpers shared by several stack checks


def _subnet_tier(subnet: Resource) -> str:
    return str(get(subnet.props, "tags.Tier", ""))


def _route_table_of(resources: Sequence[Resource], subnet: Resource) -> Resource | None:
    tables = by_id(resources, ROUTE_TABLE)
    for assoc in of_type(resources, RTA):
        if assoc.props.get("subnetId") == ident(subnet):
            return tables.get(str(assoc.props.get("routeTableId")))
    return None


def _routes_of(resources: Sequence[Resource], table: Resource) -> list[Resource]:
    return [r for r in of_type(resources, ROUTE) if r.props.get("routeTableId") == ident(table)]


def _in_tier(resources: Sequence[Resource], subnet_ids: Any, tier: str) -> list[str]:
    """The subnet ids among `subnet_ids` that are not registered subnets of `tier`."""
    subnets = by_id(resources, SUBNET)
    return [
        str(s) for s in items(subnet_ids) if s not in subnets or _subnet_tier(subnets[s]) != tier
    ]


# ---- RNF-CF-01


def az_count(resources: Sequence[Resource]) -> list[Finding]:
    need = 3 if _env_is_prod(resources) else 2
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
    if not _env_is_prod(resources):
        return [Finding(n.urn, True) for n in nats]
    subnets = by_id(resources, SUBNET)
    nat_az = {
        ident(n): s.props.get("availabilityZone")
        for n in nats
        for s in [subnets.get(str(n.props.get("subnetId")))]
        if s
    }
    found = []
    for subnet in of_type(resources, SUBNET):
        if _subnet_tier(subnet) != "app":
            continue
        az = subnet.props.get("availabilityZone")
        table = _route_table_of(resources, subnet)
        routes = _routes_of(resources, table) if table else []
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
    app = {ident(s) for s in of_type(resources, SUBNET) if _subnet_tier(s) == "app"}
    azs = {get(s.props, "availabilityZone") for s in of_type(resources, SUBNET)}
    found = []
    for ng in of_type(resources, NODE_GROUP):
        problems = []
        missing = app - {str(s) for s in items(ng.props.get("subnetIds"))}
        if missing:
            problems.append(f"misses app subnets {sorted(missing)}")
        min_size = int(get(ng.props, "scalingConfig.minSize") or 0)
        if _env_is_prod(resources) and min_size < len(azs):
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


def _name_ns(r: Resource) -> tuple[str, str]:
    return (
        str(get(r.props, "metadata.name", "")),
        str(get(r.props, "metadata.namespace", "default")),
    )


def _hpa_for(resources: Sequence[Resource], deployment: Resource) -> Resource | None:
    name, ns = _name_ns(deployment)
    for hpa in of_type(resources, HPA):
        target = get(hpa.props, "spec.scaleTargetRef", {})
        if (
            get(target, "kind") == "Deployment"
            and get(target, "name") == name
            and _name_ns(hpa)[1] == ns
        ):
            return hpa
    return None


def workload_ha(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for d in of_type(resources, DEPLOYMENT):
        problems = []
        hpa = _hpa_for(resources, d)
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
        ns = _name_ns(d)[1]
        pdbs = [
            p
            for p in of_type(resources, PDB)
            if _name_ns(p)[1] == ns
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
    if _is_list(value):
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


# ---- RNF-CF-03


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


# ---- RNF-ED-01


def node_autoscaling(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    low = int(get(props, "scalingConfig.minSize") or 0)
    high = int(get(props, "scalingConfig.maxSize") or 0)
    return None if low < high else f"scalingConfig minSize {low} !< maxSize {high}"


def workload_hpa(resources: Sequence[Resource]) -> list[Finding]:
    return [
        Finding(d.urn, ok, "" if ok else "no HorizontalPodAutoscaler targets it")
        for d in of_type(resources, DEPLOYMENT)
        for ok in [_hpa_for(resources, d) is not None]
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


# ---- RNF-S-01


def kms_keys(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []
    if props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        problems.append("customerMasterKeySpec is not SYMMETRIC_DEFAULT (AES-256)")
    if not on(props.get("enableKeyRotation")):
        problems.append("enableKeyRotation is not true")
    return "; ".join(problems) or None


def customer_key_encryption(typ: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []

    def need_key(path: str) -> None:
        if not _customer_key(get(props, path)):
            problems.append(f"{path} is not a customer-managed key")

    if typ == RDS:
        if not on(props.get("storageEncrypted")):
            problems.append("storageEncrypted is not true")
        need_key("kmsKeyId")
        if on(props.get("performanceInsightsEnabled")):
            need_key("performanceInsightsKmsKeyId")
    elif typ == CACHE:
        if not on(props.get("atRestEncryptionEnabled")):
            problems.append("atRestEncryptionEnabled is not true")
        need_key("kmsKeyId")
    elif typ == EKS:
        configs = items(props.get("encryptionConfig"))
        if not any("secrets" in items(get(e, "resources")) for e in configs):
            problems.append("encryptionConfig does not cover secrets")
        need_key("encryptionConfig.provider.keyArn")
    elif typ == NODE_GROUP:
        # Node volumes are encrypted by the launch template; without one EKS picks the
        # account default, which may be unencrypted or AWS-managed.
        if not get(props, "launchTemplate"):
            problems.append("no launchTemplate: node volumes miss the customer key")
    elif typ == LAUNCH_TEMPLATE:
        mappings = items(props.get("blockDeviceMappings"))
        if not mappings:
            problems.append("no blockDeviceMappings: root volume encryption is not set")
        for i, m in enumerate(mappings):
            if not on(get(m, "ebs.encrypted")):
                problems.append(f"blockDeviceMappings.{i}.ebs.encrypted is not true")
            if not _customer_key(get(m, "ebs.kmsKeyId")):
                problems.append(f"blockDeviceMappings.{i}.ebs.kmsKeyId is not a customer key")
    elif typ in (LOG_GROUP, SECRET):
        need_key("kmsKeyId")
    elif typ == ECR:
        if get(props, "encryptionConfigurations.0.encryptionType") != "KMS":
            problems.append("encryptionConfigurations.0.encryptionType is not KMS")
        need_key("encryptionConfigurations.0.kmsKey")
    elif typ == SNS:
        need_key("kmsMasterKeyId")
    return "; ".join(problems) or None


def buckets_encrypted(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for bucket in of_type(resources, BUCKET):
        names = {ident(bucket), str(bucket.props.get("bucket") or "")} - {""}
        ok = False
        for sse in of_type(resources, BUCKET_SSE):
            if sse.props.get("bucket") in names:
                ok = any(
                    get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms"
                    and _customer_key(
                        get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
                    )
                    for rule in items(sse.props.get("rules"))
                )
        found.append(Finding(bucket.urn, ok, "" if ok else "no SSE-KMS with a customer key"))
    return found


# ---- RNF-S-04


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
        outside = _in_tier(resources, group.props.get("subnetIds"), "data")
        ok = bool(items(group.props.get("subnetIds"))) and not outside
        found.append(
            Finding(group.urn, ok, "" if ok else f"subnets outside the data tier: {outside}")
        )
    return found


def private_subnets(resources: Sequence[Resource]) -> list[Finding]:
    igws = set(by_id(resources, IGW))
    found = []
    for subnet in of_type(resources, SUBNET):
        tier = _subnet_tier(subnet)
        if tier == "public":
            continue
        problems = []
        if on(subnet.props.get("mapPublicIpOnLaunch")):
            problems.append("maps public IPs")
        table = _route_table_of(resources, subnet)
        if table is None:
            problems.append("no route table association")
        else:
            routes = _routes_of(resources, table)
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
        outside = _in_tier(resources, ng.props.get("subnetIds"), "app")
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
    namespaces = {_name_ns(d)[1] for d in of_type(resources, DEPLOYMENT)}
    for ns in sorted(namespaces):
        deny = [
            p
            for p in of_type(resources, NETWORK_POLICY)
            if _name_ns(p)[1] == ns
            and not get(p.props, "spec.podSelector.matchLabels")
            and not get(p.props, "spec.podSelector.matchExpressions")
            and "Ingress" in items(get(p.props, "spec.policyTypes"))
            and not items(get(p.props, "spec.ingress"))
        ]
        urn = (
            deny[0].urn
            if deny
            else next(d.urn for d in of_type(resources, DEPLOYMENT) if _name_ns(d)[1] == ns)
        )
        found.append(
            Finding(
                urn, bool(deny), "" if deny else f"namespace {ns} has no default-deny NetworkPolicy"
            )
        )
    return found


@cache
def accepts_tags(token: str) -> bool:
    """Whether the pulumi-aws resource behind `token` takes a `tags` argument."""
    package, module_path, cls_name = token.split(":")
    if package != "aws":
        return False
    try:
        module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
        cls = getattr(module, cls_name)
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def required_tags(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    tags = props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not get(tags, t)]
    return f"tags lack {missing}" if missing else None


# ---- RNF-P-01


def behind_components(resources: Sequence[Resource]) -> list[Finding]:
    types = {r.urn: r.type for r in resources}
    return [
        Finding(r.urn, ok, "" if ok else "not parented to a reevo component")
        for r in resources
        if r.type.startswith("aws:")
        for ok in [types.get(r.parent, "").startswith("reevo:")]
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
    if _is_list(value):
        return [p for i, v in enumerate(value) for p in _aws_only(v, f"{path}.{i}")]
    return [path] if isinstance(value, str) and "amazonaws.com" in value else []


def plain_workloads(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    found = _aws_only({"metadata": props.get("metadata"), "spec": props.get("spec")})
    return f"AWS-only fields: {found[:3]}" if found else None


# ---- RF-CAD-002


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
    if _is_list(value):
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
