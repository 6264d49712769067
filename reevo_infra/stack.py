"""Composes the components into one Reevo stack; the only place tiers are wired together.

Each tier takes only what it needs from the others, so a real `pulumi up` builds the cluster,
the database, the cache and the edge side by side once the network and keys exist. The
data tier admits the cluster through rule resources that wait for the cluster's security
group, never the other way round.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from reevo_infra import charts, cidr
from reevo_infra.alarms import Thresholds
from reevo_infra.components.cache import Cache, CacheArgs
from reevo_infra.components.cluster import Cluster, ClusterArgs
from reevo_infra.components.database import Database, DatabaseArgs
from reevo_infra.components.gateway import Gateway, GatewayArgs
from reevo_infra.components.identity import Identity, IdentityArgs
from reevo_infra.components.ingress import Ingress, IngressArgs
from reevo_infra.components.keys import Keys, KeysArgs
from reevo_infra.components.network import Network, NetworkArgs
from reevo_infra.components.observability import Observability, ObservabilityArgs, Watched
from reevo_infra.components.platform import Platform, PlatformArgs
from reevo_infra.components.secrets_sync import SecretsSync, SecretsSyncArgs
from reevo_infra.components.waf import Waf, WafArgs
from reevo_infra.components.workload import Workload, WorkloadArgs
from reevo_infra.config import NAMESPACE, ConfigError, StackConfig
from reevo_infra.naming import base_tags


@dataclass(frozen=True)
class Context:
    """What every tier shares: config, name prefix, tags, account facts, provider options."""

    cfg: StackConfig
    prefix: str
    tags: dict[str, str]
    partition: str
    account_id: str
    opts: pulumi.ResourceOptions


def _zones(cfg: StackConfig, invoke: pulumi.InvokeOptions) -> list[str]:
    zones = aws.get_availability_zones(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=invoke,
    ).names
    if len(zones) < cfg.network.az_count:
        raise ConfigError(
            [
                f"reevo:network.azCount: {cfg.region} offers {len(zones)} AZs, "
                f"not {cfg.network.az_count}"
            ]
        )
    return sorted(zones)[: cfg.network.az_count]


def build(cfg: StackConfig) -> dict[str, Any]:
    """Create every tier for `cfg` and return the stack outputs."""
    stack = pulumi.get_stack()
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
    invoke = pulumi.InvokeOptions(provider=provider)
    ctx = Context(
        cfg=cfg,
        prefix=f"reevo-{stack}",
        tags=tags,
        partition=aws.get_partition(opts=invoke).partition,
        account_id=aws.get_caller_identity(opts=invoke).account_id,
        opts=pulumi.ResourceOptions(providers=[provider]),
    )

    keys = Keys(
        f"{ctx.prefix}-keys",
        KeysArgs(
            account_id=ctx.account_id,
            partition=ctx.partition,
            region=cfg.region,
            tags=tags,
            protect=cfg.is_prod,
        ),
        ctx.opts,
    )

    network = Network(
        f"{ctx.prefix}-net",
        NetworkArgs(
            cidr_block=str(cfg.network.cidr),
            availability_zones=_zones(cfg, invoke),
            nat_per_az=cfg.network.nat_gateways == "perAz",
            flow_log_retention_days=cfg.log_retention_days,
            logs_key_arn=keys.arns["logs"],
            region=cfg.region,
            tags=tags,
        ),
        ctx.opts,
    )

    ingress = Ingress(
        f"{ctx.prefix}-ingress",
        IngressArgs(
            vpc_id=network.vpc_id,
            app_subnet_ids=network.app_subnet_ids,
            tags=tags,
            deletion_protection=cfg.is_prod,
        ),
        ctx.opts,
    )

    cluster, kube = _compute_tier(ctx, keys, network, ingress)
    database, cache = _data_tier(ctx, keys, network, cluster)
    users, gateway = _edge_tier(ctx, keys, ingress)
    platform, workloads = _platform_tier(ctx, keys, cluster, kube, database, cache)
    observability = _observability(ctx, keys, ingress, cluster, database, cache, gateway)

    return {
        "region": cfg.region,
        "vpcId": network.vpc_id,
        "publicSubnetIds": network.public_subnet_ids,
        "appSubnetIds": network.app_subnet_ids,
        "dataSubnetIds": network.data_subnet_ids,
        "keyArns": keys.arns,
        "ingressLoadBalancerArn": ingress.load_balancer_arn,
        "clusterName": cluster.name,
        "clusterEndpoint": cluster.endpoint,
        "clusterSecurityGroupId": cluster.cluster_security_group_id,
        "clusterOidcProviderArn": cluster.oidc_provider_arn,
        "clusterAutoscalerRoleArn": cluster.autoscaler_role_arn,
        "nodeGroupNames": cluster.node_group_names,
        "databaseAddress": database.address,
        "databasePort": database.port,
        "databaseSecretArn": database.secret_arn,
        "databaseSecurityGroupId": database.security_group_id,
        "cachePrimaryEndpoint": cache.primary_endpoint,
        "cacheReaderEndpoint": cache.reader_endpoint,
        "cachePort": cache.port,
        "cacheSecretArn": cache.secret_arn,
        "cacheSecurityGroupId": cache.security_group_id,
        "apiInvokeUrl": gateway.invoke_url,
        "userPoolId": users.user_pool_id,
        "userPoolClientId": users.client_id,
        "appNamespace": platform.namespace,
        "repositoryUrls": {name: w.repository_url for name, w in workloads.items()},
        "alertTopicArn": observability.topic_arn,
        "dashboardName": observability.dashboard_name,
    }


def _compute_tier(
    ctx: Context, keys: Keys, network: Network, ingress: Ingress
) -> tuple[Cluster, k8s.Provider]:
    """The EKS cluster, its nodes, and the Kubernetes provider every in-cluster object uses.

    Nothing here waits for the data tier or the edge.
    """
    c = ctx.cfg.cluster
    cluster = Cluster(
        f"{ctx.prefix}-eks",
        ClusterArgs(
            kubernetes_version=c.version,
            vpc_cidr=network.cidr_block,
            app_subnet_ids=network.app_subnet_ids,
            cluster_key_arn=keys.arns["cluster"],
            logs_key_arn=keys.arns["logs"],
            log_retention_days=ctx.cfg.log_retention_days,
            target_group_arn=ingress.target_group_arn,
            instance_types=c.instance_types,
            architecture=c.architecture,
            node_min_size=c.node_min_size,
            node_desired_size=c.node_desired_size,
            node_max_size=c.node_max_size,
            node_disk_gib=c.node_disk_gib,
            region=ctx.cfg.region,
            partition=ctx.partition,
            tags=ctx.tags,
            endpoint_public_access=c.endpoint_public_access,
            public_access_cidrs=[str(n) for n in c.public_access_cidrs],
            admin_principal_arns=c.admin_principal_arns,
        ),
        ctx.opts,
    )

    # Like the AWS provider, this one sits under the stack, so its URN never changes with
    # the code's structure: a changed provider URN would replace every Kubernetes object.
    # Every in-cluster object waits for its provider, so the provider waits for a cluster
    # that can run pods: nodes networked by the VPC CNI, and CoreDNS up on them.
    kube = k8s.Provider(
        f"{ctx.prefix}-k8s",
        kubeconfig=cluster.kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(
            depends_on=[cluster.addons["vpc-cni"], cluster.addons["coredns"]]
        ),
    )
    return cluster, kube


def _data_tier(
    ctx: Context, keys: Keys, network: Network, cluster: Cluster
) -> tuple[Database, Cache]:
    """The database and the cache, admitting only the cluster's security group.

    The cluster's group reaches them only through separate ingress-rule resources, so the
    database and cache themselves never wait for the cluster.
    """
    db, cc = ctx.cfg.database, ctx.cfg.cache
    clients = [cluster.cluster_security_group_id]
    database = Database(
        f"{ctx.prefix}-db",
        DatabaseArgs(
            vpc_id=network.vpc_id,
            data_subnet_ids=network.data_subnet_ids,
            data_key_arn=keys.arns["data"],
            partition=ctx.partition,
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
            tags=ctx.tags,
            logs_key_arn=keys.arns["logs"],
            log_retention_days=ctx.cfg.log_retention_days,
            protect=ctx.cfg.is_prod,
            client_security_group_ids=clients,
        ),
        ctx.opts,
    )

    cache = Cache(
        f"{ctx.prefix}-cache",
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
            tags=ctx.tags,
            final_snapshot=ctx.cfg.is_prod,
            protect=ctx.cfg.is_prod,
            client_security_group_ids=clients,
        ),
        ctx.opts,
    )
    return database, cache


def _edge_tier(ctx: Context, keys: Keys, ingress: Ingress) -> tuple[Identity, Gateway]:
    """Cognito, the REST API and its WAF: they need only the keys, the NLB and config."""
    cfg = ctx.cfg
    users = Identity(
        f"{ctx.prefix}-users",
        IdentityArgs(
            tags=ctx.tags,
            mfa=cfg.gateway.mfa,
            deletion_protection=cfg.is_prod,
            threat_protection=cfg.is_prod,
        ),
        ctx.opts,
    )

    gateway = Gateway(
        f"{ctx.prefix}-api",
        GatewayArgs(
            services=[s.name for s in cfg.services],
            load_balancer_arn=ingress.load_balancer_arn,
            load_balancer_dns_name=ingress.dns_name,
            user_pool_arn=users.user_pool_arn,
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            stage_name=cfg.environment,
            partition=ctx.partition,
            throttle_rate=cfg.gateway.throttle_rate,
            throttle_burst=cfg.gateway.throttle_burst,
            tags=ctx.tags,
            domain_name=cfg.gateway.domain_name,
            certificate_arn=cfg.gateway.certificate_arn,
        ),
        ctx.opts,
    )

    Waf(
        f"{ctx.prefix}-waf",
        WafArgs(
            resource_arn=gateway.stage_arn,
            rate_limit=cfg.gateway.waf_rate_limit,
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            tags=ctx.tags,
        ),
        ctx.opts,
    )
    return users, gateway


def _platform_tier(
    ctx: Context,
    keys: Keys,
    cluster: Cluster,
    kube: k8s.Provider,
    database: Database,
    cache: Cache,
) -> tuple[Platform, dict[str, Workload]]:
    """What runs inside the cluster: add-ons, policies, credentials, then one Workload each.

    The data tier's secrets flow one way, by ARN, into the cluster; nothing in the data tier
    waits for anything here.
    """
    cfg = ctx.cfg
    footprints = [charts.Footprint(s.max_replicas, s.cpu, s.memory) for s in cfg.services]
    subnet_plan = cidr.plan(ipaddress.IPv4Network(str(cfg.network.cidr)), cfg.network.az_count)
    platform = Platform(
        f"{ctx.prefix}-platform",
        PlatformArgs(
            kube_provider=kube,
            cluster_name=cluster.name,
            autoscaler_role_arn=cluster.autoscaler_role_arn,
            volume_key_arn=keys.arns["cluster"],
            region=cfg.region,
            kubernetes_version=cfg.cluster.version,
            data_subnet_cidrs=[str(block) for block in subnet_plan.data],
            namespace=NAMESPACE,
            quota=charts.namespace_quota(footprints),
            container_max=charts.container_max(footprints),
            high_availability=cfg.is_prod,
            retain_volumes=cfg.is_prod,
        ),
        ctx.opts,
    )

    secrets = SecretsSync(
        f"{ctx.prefix}-secrets",
        SecretsSyncArgs(
            kube_provider=kube,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_provider_url=cluster.oidc_provider_url,
            database_secret_arn=database.secret_arn,
            cache_secret_arn=cache.secret_arn,
            data_key_arn=keys.arns["data"],
            app_namespace=platform.namespace,
            region=cfg.region,
            kubernetes_version=cfg.cluster.version,
            tags=ctx.tags,
            high_availability=cfg.is_prod,
        ),
        ctx.opts,
    )

    workloads = {}
    for svc in cfg.services:
        workloads[svc.name] = Workload(
            f"{ctx.prefix}-{svc.name}",
            WorkloadArgs(
                kube_provider=kube,
                namespace=platform.namespace,
                ingress_class=platform.ingress_class,
                image_key_arn=keys.arns["data"],
                service=svc.name,
                image_tag=svc.image_tag,
                port=svc.port,
                cpu=svc.cpu,
                memory=svc.memory,
                min_replicas=svc.min_replicas,
                max_replicas=svc.max_replicas,
                cpu_target_percent=svc.cpu_target_percent,
                health_path=svc.health_path,
                ready_path=svc.ready_path,
                internet_egress=svc.internet_egress,
                tags=ctx.tags,
                database_host=database.address if svc.uses_database else None,
                database_port=database.port,
                database_secret=secrets.database_secret if svc.uses_database else None,
                cache_host=cache.primary_endpoint if svc.uses_cache else None,
                cache_port=cache.port,
                cache_secret=secrets.cache_secret if svc.uses_cache else None,
            ),
            ctx.opts,
        )
    return platform, workloads


def _observability(
    ctx: Context,
    keys: Keys,
    ingress: Ingress,
    cluster: Cluster,
    database: Database,
    cache: Cache,
    gateway: Gateway,
) -> Observability:
    """Alarms on every stateful resource, the API, the load balancer and the nodes."""
    cfg, a = ctx.cfg, ctx.cfg.alerts
    return Observability(
        f"{ctx.prefix}-obs",
        ObservabilityArgs(
            watched=Watched(
                db_instance_id=database.identifier,
                db_allocated_storage_gib=cfg.database.allocated_storage,
                cache_member_ids=cache.node_ids,
                api_name=gateway.api_name,
                stage_name=gateway.stage_name,
                load_balancer_arn_suffix=ingress.load_balancer_arn_suffix,
                target_group_arn_suffix=ingress.target_group_arn_suffix,
                cluster_name=cluster.name,
                node_min_size=cfg.cluster.node_min_size,
            ),
            thresholds=Thresholds(
                rds_cpu_percent=a.rds_cpu_percent,
                rds_free_storage_percent=a.rds_free_storage_percent,
                rds_freeable_memory_mib=a.rds_freeable_memory_mib,
                rds_max_connections=a.rds_max_connections,
                rds_latency_seconds=a.rds_latency_seconds,
                cache_cpu_percent=a.cache_cpu_percent,
                cache_memory_percent=a.cache_memory_percent,
                cache_evictions=a.cache_evictions,
                cache_replication_lag_seconds=a.cache_replication_lag_seconds,
                api_5xx_percent=a.api_5xx_percent,
                api_p99_latency_ms=a.api_p99_latency_ms,
                slo_target_percent=a.slo_target_percent,
            ),
            alerts_key_arn=keys.arns["alerts"],
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            emails=a.emails,
            alarms_enabled=a.enabled,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_provider_url,
            region=cfg.region,
            partition=ctx.partition,
            tags=ctx.tags,
            addon_after=cluster.node_groups,
        ),
        ctx.opts,
    )
