"""shared/requirements.md as checkable properties: one definition each, used three ways.

The tests, the policy pack (`policy/`) and the offline report (`preview --report`) all run the
same `PROPERTIES`. A property is either resource-scoped (one resource's inputs, plus the stack's
environment) or stack-scoped (joins across the stack's resources). Names are pulumi-aws v7 /
pulumi-kubernetes v4 type tokens and camelCase input names, as the engine and policies see them.

No pulumi-policy here: the check functions take plain mappings, so the policy pack's proxies
(which raise on values unknown at preview) and the offline recording both fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reevo_infra.checks import availability as av
from reevo_infra.checks import encryption as enc
from reevo_infra.checks import gateway as gw
from reevo_infra.checks import security as sec
from reevo_infra.checks import view as c
from reevo_infra.checks.view import Finding, Resource, stack_environment, stack_of

Status = Literal["PASS", "FAIL", "NOT APPLICABLE"]


ResourceCheck = Callable[[str, Mapping[str, Any], str], "str | None"]
StackCheck = Callable[[Sequence[Resource]], list[Finding]]


@dataclass(frozen=True)
class ResourceProperty:
    """Holds for each resource of `types`: `check(type, props, environment)` returns why not."""

    requirement: str
    key: str
    title: str
    types: tuple[str, ...]
    check: ResourceCheck
    prod_only: bool = False
    when: Callable[[str], bool] | None = None
    """Narrows `types` further, e.g. to the AWS types that take tags."""

    def applies_to(self, resource_type: str) -> bool:
        listed = resource_type in self.types or (
            "*aws" in self.types and resource_type.startswith("aws:")
        )
        return listed and (self.when is None or self.when(resource_type))


@dataclass(frozen=True)
class StackProperty:
    """Holds across the stack: `check(resources)` returns a finding per resource it judged.

    No findings means nothing in the stack was subject to it (reported as not applicable).
    """

    requirement: str
    key: str
    title: str
    types: tuple[str, ...]
    check: StackCheck
    prod_only: bool = False


Property = ResourceProperty | StackProperty


def environment_of(props: Mapping[str, Any], urn: str) -> str:
    """The resource's `tags.Environment`, else its stack name."""
    env = c.get(props, "tags.Environment")
    return env if isinstance(env, str) and env else stack_of(urn)


PROPERTIES: tuple[Property, ...] = (
    # RNF-CF-01: 99.9% availability.
    StackProperty(
        "RNF-CF-01", "az-count", "the VPC spans >= 2 AZs (prod >= 3)", (c.VPC,), av.az_count
    ),
    StackProperty(
        "RNF-CF-01",
        "nat-per-az",
        "a NAT gateway; in prod one per AZ, each app route table using its own",
        (c.NAT,),
        av.nat_per_az,
    ),
    ResourceProperty(
        "RNF-CF-01",
        "rds-multi-az",
        "prod RDS is Multi-AZ (multiAz)",
        (c.RDS,),
        av.rds_multi_az,
        prod_only=True,
    ),
    ResourceProperty(
        "RNF-CF-01",
        "cache-ha",
        "prod Redis: >= 2 nodes, automatic failover, Multi-AZ",
        (c.CACHE,),
        av.cache_ha,
        prod_only=True,
    ),
    StackProperty(
        "RNF-CF-01",
        "node-groups-span-azs",
        "node groups span every app subnet; prod min size >= AZ count",
        (c.NODE_GROUP,),
        av.node_groups_span_azs,
    ),
    ResourceProperty(
        "RNF-CF-01",
        "workload-probes",
        "every workload container has liveness and readiness probes",
        (c.DEPLOYMENT,),
        av.workload_probes,
    ),
    StackProperty(
        "RNF-CF-01",
        "workload-ha",
        "prod workloads: >= 2 replicas, spread across zones, a PodDisruptionBudget",
        (c.DEPLOYMENT,),
        av.workload_ha,
        prod_only=True,
    ),
    StackProperty(
        "RNF-CF-01",
        "alarms",
        "prod alarms on RDS, Redis, API and nodes notify a topic",
        (c.RDS, c.CACHE, c.STAGE, c.NODE_GROUP),
        av.alarms,
        prod_only=True,
    ),
    # RNF-CF-03: backups, point-in-time recovery, protection.
    ResourceProperty(
        "RNF-CF-03",
        "rds-backups",
        "RDS backup retention >= 7 days in prod, >= 1 elsewhere",
        (c.RDS,),
        av.rds_backups,
    ),
    ResourceProperty(
        "RNF-CF-03",
        "rds-deletion-safety",
        "prod RDS: deletion protection, final snapshot, tags copied to snapshots",
        (c.RDS,),
        av.rds_deletion_safety,
        prod_only=True,
    ),
    ResourceProperty(
        "RNF-CF-03",
        "cache-snapshots",
        "prod Redis keeps daily snapshots",
        (c.CACHE,),
        av.cache_snapshots,
        prod_only=True,
    ),
    StackProperty(
        "RNF-CF-03",
        "stateful-protected",
        "prod database, cache and KMS keys are protected in Pulumi",
        (c.RDS, c.CACHE, c.KMS_KEY),
        av.stateful_protected,
        prod_only=True,
    ),
    # RNF-ED-01: elastic scalability.
    ResourceProperty(
        "RNF-ED-01",
        "node-autoscaling",
        "node groups scale (min < max)",
        (c.NODE_GROUP,),
        av.node_autoscaling,
    ),
    StackProperty(
        "RNF-ED-01",
        "workload-hpa",
        "every workload has a HorizontalPodAutoscaler",
        (c.DEPLOYMENT,),
        av.workload_hpa,
    ),
    ResourceProperty(
        "RNF-ED-01",
        "rds-storage-autoscaling",
        "RDS storage grows (maxAllocatedStorage > allocatedStorage)",
        (c.RDS,),
        av.rds_storage_autoscaling,
    ),
    StackProperty(
        "RNF-ED-01",
        "api-throttling",
        "every API stage throttles (rate and burst)",
        (c.STAGE,),
        av.api_throttling,
    ),
    # RNF-S-01: encryption at rest with customer-managed keys.
    ResourceProperty(
        "RNF-S-01",
        "kms-keys",
        "KMS keys are AES-256 (SYMMETRIC_DEFAULT), rotated",
        (c.KMS_KEY,),
        enc.kms_keys,
    ),
    ResourceProperty(
        "RNF-S-01",
        "customer-key-encryption",
        "every store of data is encrypted with a customer-managed KMS key",
        c.ENCRYPTED_STORES,
        enc.customer_key_encryption,
    ),
    StackProperty(
        "RNF-S-01",
        "buckets-encrypted",
        "every bucket has SSE-KMS with a customer key",
        (c.BUCKET,),
        enc.buckets_encrypted,
    ),
    # RNF-S-04: LGPD, security by design.
    ResourceProperty(
        "RNF-S-04", "region", "the AWS provider deploys to sa-east-1", (c.AWS_PROVIDER,), sec.region
    ),
    StackProperty(
        "RNF-S-04",
        "regional-provider",
        "every AWS resource goes through a provider pinned to sa-east-1",
        ("*aws",),
        sec.regional_provider,
    ),
    ResourceProperty(
        "RNF-S-04",
        "no-public-database",
        "RDS is not publicly accessible",
        (c.RDS,),
        sec.no_public_database,
    ),
    StackProperty(
        "RNF-S-04",
        "data-in-isolated-subnets",
        "database and cache live only in the isolated data subnets",
        (c.RDS_SUBNETS, c.CACHE_SUBNETS),
        sec.data_in_isolated_subnets,
    ),
    StackProperty(
        "RNF-S-04",
        "private-subnets",
        "app and data subnets: no route to an internet gateway, no public IPs",
        (c.SUBNET,),
        sec.private_subnets,
    ),
    ResourceProperty(
        "RNF-S-04",
        "no-world-ingress",
        "no security group admits 0.0.0.0/0 or ::/0",
        c.INGRESS_RULES,
        sec.no_world_ingress,
    ),
    ResourceProperty(
        "RNF-S-04",
        "tls-in-transit",
        "TLS enforced to PostgreSQL and Redis; the API on TLS 1.2+",
        (c.RDS, c.RDS_PARAMS, c.CACHE, c.DOMAIN),
        sec.tls_in_transit,
    ),
    StackProperty(
        "RNF-S-04",
        "flow-logs",
        "every VPC logs ALL traffic to a log group",
        (c.VPC,),
        sec.flow_logs,
    ),
    ResourceProperty(
        "RNF-S-04",
        "log-retention",
        "log groups keep a set, bounded retention; prod >= 180 days",
        (c.LOG_GROUP,),
        sec.log_retention,
    ),
    ResourceProperty(
        "RNF-S-04",
        "audit-logs",
        "EKS audit, database and API access logs are switched on",
        (c.EKS, c.RDS, c.STAGE),
        sec.audit_logs,
    ),
    StackProperty(
        "RNF-S-04",
        "waf-logs",
        "every web ACL is logged, with the Authorization header redacted",
        (c.WEB_ACL,),
        sec.waf_logs,
    ),
    ResourceProperty(
        "RNF-S-04",
        "eks-endpoint",
        "the EKS API is private in prod; never open to 0.0.0.0/0",
        (c.EKS,),
        sec.eks_endpoint,
    ),
    StackProperty(
        "RNF-S-04",
        "node-groups-private",
        "node groups run only in private subnets",
        (c.NODE_GROUP,),
        sec.node_groups_private,
    ),
    StackProperty(
        "RNF-S-04",
        "network-policies",
        "VPC CNI enforces NetworkPolicies; each workload namespace denies by default",
        (c.EKS,),
        sec.network_policies,
    ),
    ResourceProperty(
        "RNF-S-04",
        "tags",
        "taggable resources carry Environment, Owner and DataClassification",
        ("*aws",),
        sec.required_tags,
        when=c.accepts_tags,
    ),
    # RNF-P-01: portability.
    StackProperty(
        "RNF-P-01",
        "behind-components",
        "every cloud resource sits inside a reevo component",
        ("*aws",),
        gw.behind_components,
    ),
    ResourceProperty(
        "RNF-P-01",
        "plain-workloads",
        "workload specs carry no AWS-only fields",
        c.WORKLOADS,
        gw.plain_workloads,
    ),
    # RF-CAD-002: every request authenticated at the gateway.
    ResourceProperty(
        "RF-CAD-002",
        "method-authorizer",
        "every API method has an authorizer; none has authorization NONE",
        (c.METHOD,),
        gw.method_authorizer,
    ),
    StackProperty(
        "RF-CAD-002",
        "waf-on-stages",
        "a WAF web ACL is associated with every stage",
        (c.STAGE,),
        gw.waf_on_stages,
    ),
    ResourceProperty(
        "RF-CAD-002",
        "waf-rules",
        "web ACLs: common, known-bad-inputs and SQLi managed rules, a rate limit",
        (c.WEB_ACL,),
        gw.waf_rules,
    ),
    ResourceProperty(
        "RF-CAD-002",
        "private-integration",
        "HTTP integrations reach the services through a VPC link",
        (c.INTEGRATION,),
        gw.private_integration,
    ),
)

REQUIREMENTS = (
    "RNF-CF-01",
    "RNF-CF-03",
    "RNF-ED-01",
    "RNF-S-01",
    "RNF-S-04",
    "RNF-P-01",
    "RF-CAD-002",
)


@dataclass(frozen=True)
class Outcome:
    """One property judged against a whole stack."""

    prop: Property
    status: Status
    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def _not_applicable(prop: Property, env: str) -> str:
    if prop.prod_only and env != "prod":
        return f"prod only; this stack's environment is {env}"
    if prop.types == ("*aws",):
        return "no AWS resource registered"
    return "no " + " or ".join(prop.types) + " registered"


def judge(prop: Property, resources: Sequence[Resource]) -> Outcome:
    """Evaluate one property over a stack's resources."""
    env = stack_environment(resources)
    if prop.prod_only and env != "prod":
        return Outcome(prop, "NOT APPLICABLE", note=_not_applicable(prop, env))
    passed: list[str] = []
    failed: list[tuple[str, str]] = []
    if isinstance(prop, ResourceProperty):
        for r in resources:
            if prop.applies_to(r.type):
                problem = prop.check(r.type, r.props, environment_of(r.props, r.urn))
                if problem is None:
                    passed.append(r.urn)
                else:
                    failed.append((r.urn, problem))
    else:
        for f in prop.check(resources):
            if f.ok:
                passed.append(f.urn)
            else:
                failed.append((f.urn, f.message))
    # Sorted by URN: registration order varies between runs, the report must not.
    passed.sort()
    failed.sort()
    if failed:
        return Outcome(prop, "FAIL", passed, failed)
    if passed:
        return Outcome(prop, "PASS", passed)
    return Outcome(prop, "NOT APPLICABLE", note=_not_applicable(prop, env))


def evaluate(resources: Sequence[Resource]) -> list[Outcome]:
    """Every property, in requirement order."""
    return [judge(p, resources) for p in PROPERTIES]
