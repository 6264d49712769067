"""Composes the components into one Reevo stack; the only place tiers are wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from reevo_infra.components.cluster import Cluster, ClusterArgs
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

    # Needs only the network, the keys and the NLB's target group: nothing from the data
    # tier, so a first deploy builds the cluster and the database side by side.
    cluster = Cluster(
        f"{prefix}-eks",
        ClusterArgs(
            kubernetes_version=cfg.cluster.version,
            vpc_cidr=network.cidr_block,
            app_subnet_ids=network.app_subnet_ids,
            cluster_key_arn=keys.arns["cluster"],
            logs_key_arn=keys.arns["logs"],
            log_retention_days=cfg.log_retention_days,
            target_group_arn=ingress.target_group_arn,
            instance_types=cfg.cluster.instance_types,
            architecture=cfg.cluster.architecture,
            node_min_size=cfg.cluster.node_min_size,
            node_desired_size=cfg.cluster.node_desired_size,
            node_max_size=cfg.cluster.node_max_size,
            node_disk_gib=cfg.cluster.node_disk_gib,
            region=cfg.region,
            partition=partition,
            tags=tags,
            endpoint_public_access=cfg.cluster.endpoint_public_access,
            public_access_cidrs=[str(n) for n in cfg.cluster.public_access_cidrs],
            admin_principal_arns=cfg.cluster.admin_principal_arns,
        ),
        opts,
    )

    # Like the AWS provider, this one sits under the stack, so its URN never changes with
    # the code's structure: a changed provider URN would replace every Kubernetes object.
    k8s.Provider(
        f"{prefix}-k8s",
        kubeconfig=cluster.kubeconfig,
        enable_server_side_apply=True,
    )

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
        "clusterName": cluster.name,
        "clusterEndpoint": cluster.endpoint,
        "clusterSecurityGroupId": cluster.cluster_security_group_id,
        "clusterOidcProviderArn": cluster.oidc_provider_arn,
        "clusterAutoscalerRoleArn": cluster.autoscaler_role_arn,
        "nodeGroupNames": cluster.node_group_names,
    }
