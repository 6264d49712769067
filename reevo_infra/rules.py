"""Cross-field rules on the stack config: the prod invariants and what AWS enforces late.

Each rule names the key it blames and the requirement or AWS rule behind it, so a broken
config reads as one line per problem before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reevo_infra import eks, windows
from reevo_infra.charts import (
    CLUSTER_AUTOSCALER_CHARTS,
    EXTERNAL_SECRETS_CHARTS,
    TRAEFIK_CHARTS,
)
from reevo_infra.config import NAMESPACE, StackConfig, qualified


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: the key it blames, the requirement or AWS rule behind it, a test."""

    key: str
    reason: str
    holds: Callable[[StackConfig], bool]
    prod_only: bool = False


# Performance Insights (Database Insights) is not offered on the smallest burstable classes.
_NO_PERFORMANCE_INSIGHTS = re.compile(r"^db\.t[234]g?\.(micro|small)$")


RULES: tuple[Rule, ...] = (
    Rule(
        "network.azCount",
        "prod needs at least 3 AZs (RNF-CF-01)",
        lambda c: c.network.az_count >= 3,
        prod_only=True,
    ),
    Rule(
        "network.natGateways",
        "prod needs a NAT gateway per AZ (RNF-CF-01)",
        lambda c: c.network.nat_gateways == "perAz",
        prod_only=True,
    ),
    Rule(
        "logRetentionDays",
        "audit and access logs are kept >= 180 days (RNF-S-04, Marco Civil art. 15)",
        lambda c: c.log_retention_days >= 180,
    ),
    Rule(
        "database.multiAz",
        "prod needs a Multi-AZ database (RNF-CF-01)",
        lambda c: c.database.multi_az,
        prod_only=True,
    ),
    Rule(
        "database.backupRetentionDays",
        "prod keeps backups >= 7 days (RNF-CF-03)",
        lambda c: c.database.backup_retention_days >= 7,
        prod_only=True,
    ),
    Rule(
        "database.backupRetentionDays",
        "automated backups (retention >= 1 day) give point-in-time recovery (RNF-CF-03)",
        lambda c: c.database.backup_retention_days >= 1,
    ),
    Rule(
        "database.deletionProtection",
        "prod needs deletion protection (RNF-CF-03)",
        lambda c: c.database.deletion_protection,
        prod_only=True,
    ),
    Rule(
        "database.maxAllocatedStorage",
        "must exceed allocatedStorage so storage can grow (RNF-ED-01)",
        lambda c: c.database.max_allocated_storage > c.database.allocated_storage,
    ),
    Rule(
        "database.maintenanceWindow",
        "RDS rejects a maintenance window overlapping backupWindow",
        lambda c: not windows.overlap(c.database.backup_window, c.database.maintenance_window),
    ),
    Rule(
        "database.finalSnapshot",
        "prod takes a final snapshot on delete (RNF-CF-03)",
        lambda c: c.database.final_snapshot,
        prod_only=True,
    ),
    Rule(
        "database.backupWindow",
        "RDS needs a backup window of at least 30 minutes",
        lambda c: windows.length_minutes(c.database.backup_window) >= 30,
    ),
    Rule(
        "database.maintenanceWindow",
        "RDS needs a maintenance window of at least 30 minutes",
        lambda c: windows.length_minutes(c.database.maintenance_window) >= 30,
    ),
    Rule(
        "database.instanceClass",
        "Performance Insights, always on (RNF-S-01), is not "
        "available on db.t*.micro or db.t*.small",
        lambda c: not _NO_PERFORMANCE_INSIGHTS.match(c.database.instance_class),
    ),
    Rule(
        "cache.numCacheClusters",
        "prod needs >= 2 cache nodes (RNF-CF-01)",
        lambda c: c.cache.num_cache_clusters >= 2,
        prod_only=True,
    ),
    Rule(
        "cache.automaticFailover",
        "prod needs automatic failover (RNF-CF-01)",
        lambda c: c.cache.automatic_failover,
        prod_only=True,
    ),
    Rule(
        "cache.multiAz",
        "prod needs a Multi-AZ cache (RNF-CF-01)",
        lambda c: c.cache.multi_az,
        prod_only=True,
    ),
    Rule(
        "cache.snapshotRetentionDays",
        "prod keeps daily cache snapshots >= 7 days (RNF-CF-03)",
        lambda c: c.cache.snapshot_retention_days >= 7,
        prod_only=True,
    ),
    Rule(
        "cache.automaticFailover",
        "ElastiCache needs numCacheClusters >= 2 for automatic failover",
        lambda c: not c.cache.automatic_failover or c.cache.num_cache_clusters >= 2,
    ),
    Rule(
        "cache.multiAz",
        "ElastiCache needs automaticFailover on for Multi-AZ",
        lambda c: not c.cache.multi_az or c.cache.automatic_failover,
    ),
    Rule(
        "cache.transitEncryption",
        "the AUTH token needs in-transit encryption, and RNF-S-04 asks for TLS",
        lambda c: c.cache.transit_encryption,
    ),
    Rule(
        "cache.maintenanceWindow",
        "ElastiCache rejects a maintenance window overlapping snapshotWindow",
        lambda c: not windows.overlap(c.cache.snapshot_window, c.cache.maintenance_window),
    ),
    Rule(
        "cache.snapshotWindow",
        "ElastiCache needs a snapshot window of at least 60 minutes",
        lambda c: windows.length_minutes(c.cache.snapshot_window) >= 60,
    ),
    Rule(
        "cache.maintenanceWindow",
        "ElastiCache needs a maintenance window of at least 60 minutes",
        lambda c: windows.length_minutes(c.cache.maintenance_window) >= 60,
    ),
    Rule(
        "cluster.endpointPublicAccess",
        "prod keeps the EKS API private (RNF-S-04)",
        lambda c: not c.cluster.endpoint_public_access,
        prod_only=True,
    ),
    Rule(
        "cluster.publicAccessCidrs",
        "a public EKS endpoint needs explicit CIDRs, never 0.0.0.0/0 (RNF-S-04)",
        lambda c: (
            not c.cluster.endpoint_public_access
            or (
                bool(c.cluster.public_access_cidrs)
                and all(n.prefixlen > 0 for n in c.cluster.public_access_cidrs)
            )
        ),
    ),
    Rule(
        "cluster.nodeMinSize",
        "prod needs at least one node per AZ (RNF-CF-01)",
        lambda c: c.cluster.node_min_size >= c.network.az_count,
        prod_only=True,
    ),
    Rule(
        "cluster.nodeMaxSize",
        "must exceed nodeMinSize so nodes can scale (RNF-ED-01)",
        lambda c: c.cluster.node_max_size > c.cluster.node_min_size,
    ),
    Rule(
        "cluster.nodeDesiredSize",
        "must lie between nodeMinSize and nodeMaxSize",
        lambda c: c.cluster.node_min_size <= c.cluster.node_desired_size <= c.cluster.node_max_size,
    ),
    Rule(
        "cluster.instanceTypes",
        "EKS rejects instance types whose CPU architecture differs from the AMI's "
        "(cluster.architecture)",
        lambda c: all(
            eks.is_graviton(t) == (c.cluster.architecture == "arm64")
            for t in c.cluster.instance_types
        ),
    ),
    Rule(
        "gateway.mfa",
        "prod offers MFA to farmers and investors (RNF-S-04)",
        lambda c: c.gateway.mfa != "OFF",
        prod_only=True,
    ),
    Rule(
        "gateway.certificateArn",
        "a custom domain needs both domainName and certificateArn",
        lambda c: (c.gateway.certificate_arn is None) == (c.gateway.domain_name is None),
    ),
    Rule(
        "gateway.certificateArn",
        "a regional API's custom domain needs an ACM certificate in the stack's region",
        lambda c: (
            c.gateway.certificate_arn is None or c.gateway.certificate_arn.split(":")[3] == c.region
        ),
    ),
    Rule(
        "alerts.enabled",
        "prod alarms must be on (RNF-CF-01)",
        lambda c: c.alerts.enabled,
        prod_only=True,
    ),
    Rule(
        "alerts.emails",
        "prod alarms need at least one subscriber (RNF-CF-01)",
        lambda c: bool(c.alerts.emails),
        prod_only=True,
    ),
    Rule(
        "services",
        "service names must be unique",
        lambda c: len({s.name for s in c.services}) == len(c.services),
    ),
    Rule(
        "cluster.version",
        "the cluster-autoscaler chart is pinned per Kubernetes minor and "
        f"exists for {', '.join(sorted(CLUSTER_AUTOSCALER_CHARTS))} only (RNF-ED-01)",
        lambda c: c.cluster.version in CLUSTER_AUTOSCALER_CHARTS,
    ),
    Rule(
        "cluster.version",
        "the External Secrets Operator chart is pinned per Kubernetes "
        f"minor and exists for {', '.join(sorted(EXTERNAL_SECRETS_CHARTS))} only (RNF-S-04)",
        lambda c: c.cluster.version in EXTERNAL_SECRETS_CHARTS,
    ),
    Rule(
        "cluster.version",
        "the Traefik ingress controller chart is pinned per Kubernetes "
        f"minor and exists for {', '.join(sorted(TRAEFIK_CHARTS))} only (RF-CAD-002)",
        lambda c: c.cluster.version in TRAEFIK_CHARTS,
    ),
)


def _service_problems(cfg: StackConfig) -> list[str]:
    problems = []
    for i, svc in enumerate(cfg.services):
        key = f"{NAMESPACE}:services[{i}]"
        if svc.max_replicas <= svc.min_replicas:
            problems.append(
                f"{key}.maxReplicas: must exceed minReplicas so the "
                "HorizontalPodAutoscaler can scale (RNF-ED-01)"
            )
        if cfg.is_prod and svc.min_replicas < 2:
            problems.append(f"{key}.minReplicas: prod runs >= 2 replicas of {svc.name} (RNF-CF-01)")
    return problems


def rule_problems(cfg: StackConfig) -> list[str]:
    """Every rule the parsed config breaks, one line each."""
    problems = [
        f"{qualified(rule.key)}: {rule.reason}"
        for rule in RULES
        if (cfg.is_prod or not rule.prod_only) and not rule.holds(cfg)
    ]
    return problems + _service_problems(cfg)
