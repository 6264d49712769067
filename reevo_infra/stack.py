"""Composes the components into one Reevo stack; the only place tiers are wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from reevo_infra.components.cache import Cache, CacheArgs
from reevo_infra.components.database import Database, DatabaseArgs
from reevo_infra.components.gateway import Gateway, GatewayArgs
from reevo_infra.components.identity import Identity, IdentityArgs
from reevo_infra.components.ingress import Ingress, IngressArgs
from reevo_infra.components.keys import Keys, KeysArgs
from reevo_infra.components.network import Network, NetworkArgs
from reevo_infra.components.waf import Waf, WafArgs
from reevo_infra.config import ConfigError, StackConfig
from reevo_infra.naming import base_tags


def _zones(cfg: StackConfig, invoke: pulumi.InvokeOptions) -> list[str]:
    zones = aws.get_availability_zones(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=invoke,
    ).names
    if len(zones) < cfg.network.az_count:
        raise ConfigError([
            f"reevo:network.azCount: {cfg.region} offers {len(zones)} AZs, "
            f"not {cfg.network.az_count}"
        ])
    return sorted(zones)[: cfg.network.az_count]


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create every tier for `cfg` and return the stack outputs."""
    stack = pulumi.get_stack()
    prefix = f"reevo-{stack}"
    tags = base_tags(
        project=pulumi.get_project(),
        stack=stack,
        environment=cfg.environment,
        owner=cfg.owner,
        cost_center=cfg.cost_center,
        data_classification=cfg.data_classification,
    )

    # One explicit provider pins every AWS resource to the configured region (RNF-S-04).
    provider = aws.Provider("aws", region=cfg.region)
    opts = pulumi.ResourceOptions(providers=[provider])
    invoke = pulumi.InvokeOptions(provider=provider)
    identity = aws.get_caller_identity(opts=invoke)
    partition = aws.get_partition(opts=invoke).partition

    keys = Keys(
        f"{prefix}-keys",
        KeysArgs(
            account_id=identity.account_id,
            partition=partition,
            region=cfg.region,
            tags=tags,
            protect=cfg.is_prod,
        ),
        opts,
    )

    network = Network(
        f"{prefix}-net",
        NetworkArgs(
            cidr_block=str(cfg.network.cidr),
            availability_zones=_zones(cfg, invoke),
            nat_per_az=cfg.network.nat_gateways == "perAz",
            flow_log_retention_days=cfg.log_retention_days,
            logs_key_arn=keys.arns["logs"],
            region=cfg.region,
            tags=tags,
        ),
        opts,
    )

    ingress = Ingress(
        f"{prefix}-ingress",
        IngressArgs(
            vpc_id=network.vpc_id,
            app_subnet_ids=network.app_subnet_ids,
            tags=tags,
            deletion_protection=cfg.is_prod,
        ),
        opts,
    )

    database, cache = _data_tier(cfg, prefix, network, keys, partition, tags, opts)

    # The edge needs only the keys, the NLB and config, so it deploys alongside compute.
    users = Identity(
        f"{prefix}-users",
        IdentityArgs(
            tags=tags,
            mfa=cfg.gateway.mfa,
            deletion_protection=cfg.is_prod,
            threat_protection=cfg.is_prod,
        ),
        opts,
    )

    gateway = Gateway(
        f"{prefix}-api",
        GatewayArgs(
            services=[s.name for s in cfg.services],
            load_balancer_arn=ingress.load_balancer_arn,
            load_balancer_dns_name=ingress.dns_name,
            user_pool_arn=users.user_pool_arn,
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            stage_name=cfg.environment,
            partition=partition,
            throttle_rate=cfg.gateway.throttle_rate,
            throttle_burst=cfg.gateway.throttle_burst,
            tags=tags,
            domain_name=cfg.gateway.domain_name,
            certificate_arn=cfg.gateway.certificate_arn,
        ),
        opts,
    )

    Waf(
        f"{prefix}-waf",
        WafArgs(
            resource_arn=gateway.stage_arn,
            rate_limit=cfg.gateway.waf_rate_limit,
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            tags=tags,
        ),
        opts,
    )

    return {
        "region": cfg.region,
        "vpcId": network.vpc_id,
        "publicSubnetIds": network.public_subnet_ids,
        "appSubnetIds": network.app_subnet_ids,
        "dataSubnetIds": network.data_subnet_ids,
        "keyArns": keys.arns,
        "ingressLoadBalancerArn": ingress.load_balancer_arn,
        "apiInvokeUrl": gateway.invoke_url,
        "userPoolId": users.user_pool_id,
        "userPoolClientId": users.client_id,
        "databaseAddress": database.address,
        "databasePort": database.port,
        "databaseSecretArn": database.secret_arn,
        "databaseSecurityGroupId": database.security_group_id,
        "cachePrimaryEndpoint": cache.primary_endpoint,
        "cacheReaderEndpoint": cache.reader_endpoint,
        "cachePort": cache.port,
        "cacheSecretArn": cache.secret_arn,
        "cacheSecurityGroupId": cache.security_group_id,
    }


def _data_tier(
    cfg: StackConfig, prefix: str, network: Network, keys: Keys, partition: str,
    tags: dict[str, str], opts: pulumi.ResourceOptions,
) -> tuple[Database, Cache]:
    """The database and the cache, both closed to every client.

    They depend on the network and the data key only. The compute tier admits its cluster
    afterwards with `reevo_infra.access.admit(..., security_group_id=database.
    security_group_id, ...)`: a rule resource that waits for the two security groups, never
    for the database or cache themselves, so those are created in parallel with the cluster.
    """
    db = cfg.database
    database = Database(
        f"{prefix}-db",
        DatabaseArgs(
            vpc_id=network.vpc_id,
            data_subnet_ids=network.data_subnet_ids,
            data_key_arn=keys.arns["data"],
            partition=partition,
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage,
            max_allocated_storage=db.max_allocated_storage,
            multi_az=db.multi_az,
            backup_retention_days=db.backup_retention_days,
            backup_window=db.backup_window,
            maintenance_window=db.maintenance_window,
            deletion_protection=db.deletion_protection,
            final_snapshot=db.final_snapshot,
            performance_insights_retention_days=db.performance_insights_retention_days,
            monitoring_interval_seconds=db.monitoring_interval_seconds,
            slow_statement_ms=db.slow_statement_ms,
            tags=tags,
            protect=cfg.is_prod,
        ),
        opts,
    )

    cc = cfg.cache
    cache = Cache(
        f"{prefix}-cache",
        CacheArgs(
            vpc_id=network.vpc_id,
            data_subnet_ids=network.data_subnet_ids,
            availability_zones=network.availability_zones,
            data_key_arn=keys.arns["data"],
            engine_version=cc.engine_version,
            node_type=cc.node_type,
            num_cache_clusters=cc.num_cache_clusters,
            automatic_failover=cc.automatic_failover,
            multi_az=cc.multi_az,
            snapshot_retention_days=cc.snapshot_retention_days,
            snapshot_window=cc.snapshot_window,
            maintenance_window=cc.maintenance_window,
            tags=tags,
            final_snapshot=cfg.is_prod,
            protect=cfg.is_prod,
        ),
        opts,
    )
    return database, cache
