"""Composes the components into one Reevo stack; the only place tiers are wired together."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from reevo_infra import charts, cidr
from reevo_infra.components.gateway import Gateway, GatewayArgs
from reevo_infra.components.identity import Identity, IdentityArgs
from reevo_infra.components.ingress import Ingress, IngressArgs
from reevo_infra.components.keys import Keys, KeysArgs
from reevo_infra.components.network import Network, NetworkArgs
from reevo_infra.components.platform import Platform, PlatformArgs
from reevo_infra.components.waf import Waf, WafArgs
from reevo_infra.components.workload import Workload, WorkloadArgs
from reevo_infra.config import NAMESPACE, ConfigError, StackConfig
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


def _interim_kube_provider(name: str, cluster_name: str, region: str) -> k8s.Provider:
    """A provider for the platform until the cluster tier's own provider is wired in.

    Credentials come from `aws eks get-token` at run time; no token is stored.
    """
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": "https://127.0.0.1:6443"}}],
        "contexts": [{"name": cluster_name,
                      "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
        }}}],
    }
    return k8s.Provider(name, kubeconfig=pulumi.Output.secret(json.dumps(kubeconfig)))


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

    cluster_name = f"{prefix}-eks"
    kube_provider = _interim_kube_provider(f"{prefix}-k8s", cluster_name, cfg.region)
    autoscaler_role_arn = (
        f"arn:{partition}:iam::{identity.account_id}:role/{prefix}-cluster-autoscaler"
    )

    footprints = [charts.Footprint(s.max_replicas, s.cpu, s.memory) for s in cfg.services]
    subnet_plan = cidr.plan(ipaddress.IPv4Network(str(cfg.network.cidr)), cfg.network.az_count)
    platform = Platform(
        f"{prefix}-platform",
        PlatformArgs(
            kube_provider=kube_provider,
            cluster_name=cluster_name,
            autoscaler_role_arn=autoscaler_role_arn,
            region=cfg.region,
            kubernetes_version=cfg.cluster.version,
            data_subnet_cidrs=[str(block) for block in subnet_plan.data],
            namespace=NAMESPACE,
            quota=charts.namespace_quota(footprints),
            container_max=charts.container_max(footprints),
            high_availability=cfg.is_prod,
        ),
        opts,
    )

    workloads = {
        svc.name: Workload(
            f"{prefix}-{svc.name}",
            WorkloadArgs(
                kube_provider=kube_provider,
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
                tags=tags,
            ),
            opts,
        )
        for svc in cfg.services
    }

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
        "appNamespace": platform.namespace,
        "repositoryUrls": {name: w.repository_url for name, w in workloads.items()},
    }
