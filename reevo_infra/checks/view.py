"""The resource view every check reads, the type tokens, and the helpers they share.

Values are read through `Mapping`/`Sequence` only (never `dict`/`list`), because the policy
engine hands in read-only proxies; a value unknown at preview raises from the proxy and the
engine reports the policy as not runnable yet, so nothing here catches it.
"""

from __future__ import annotations

import importlib
import inspect
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


def finding(urn: str, ok: bool, why: str) -> Finding:
    """A finding that carries `why` only when the property does not hold."""
    return Finding(urn, ok, "" if ok else why)


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
        elif is_list(value) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
    return value


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def items(value: Any) -> list[Any]:
    """A list input as a list: None is empty, a single value is a list of one."""
    if value is None:
        return []
    return list(value) if is_list(value) else [value]


def on(value: Any) -> bool:
    """True for `true` and `"true"` (some v7 inputs, e.g. launch template `encrypted`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def ident(r: Resource) -> str:
    return r.id or str(r.props.get("id") or "")


def by_id(resources: Iterable[Resource], *types: str) -> dict[str, Resource]:
    return {ident(r): r for r in of_type(resources, *types) if ident(r)}


def env_is_prod(resources: Sequence[Resource]) -> bool:
    return stack_environment(resources) == "prod"


def subnet_tier(subnet: Resource) -> str:
    return str(get(subnet.props, "tags.Tier", ""))


def route_table_of(resources: Sequence[Resource], subnet: Resource) -> Resource | None:
    tables = by_id(resources, ROUTE_TABLE)
    for assoc in of_type(resources, RTA):
        if assoc.props.get("subnetId") == ident(subnet):
            return tables.get(str(assoc.props.get("routeTableId")))
    return None


def routes_of(resources: Sequence[Resource], table: Resource) -> list[Resource]:
    return [r for r in of_type(resources, ROUTE) if r.props.get("routeTableId") == ident(table)]


def not_in_tier(resources: Sequence[Resource], subnet_ids: Any, tier: str) -> list[str]:
    """The subnet ids among `subnet_ids` that are not registered subnets of `tier`."""
    subnets = by_id(resources, SUBNET)
    return [
        str(s) for s in items(subnet_ids) if s not in subnets or subnet_tier(subnets[s]) != tier
    ]


def name_ns(r: Resource) -> tuple[str, str]:
    return (
        str(get(r.props, "metadata.name", "")),
        str(get(r.props, "metadata.namespace", "default")),
    )


def hpa_for(resources: Sequence[Resource], deployment: Resource) -> Resource | None:
    name, ns = name_ns(deployment)
    for hpa in of_type(resources, HPA):
        target = get(hpa.props, "spec.scaleTargetRef", {})
        if (
            get(target, "kind") == "Deployment"
            and get(target, "name") == name
            and name_ns(hpa)[1] == ns
        ):
            return hpa
    return None


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
