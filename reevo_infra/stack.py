"""Composes the components into one Reevo stack; the only place tiers are wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from reevo_infra.components.ingress import Ingress, IngressArgs
from reevo_infra.components.keys import Keys, KeysArgs
from reevo_infra.components.network import Network, NetworkArgs
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

    return {
        "region": cfg.region,
        "vpcId": network.vpc_id,
        "publicSubnetIds": network.public_subnet_ids,
        "appSubnetIds": network.app_subnet_ids,
        "dataSubnetIds": network.data_subnet_ids,
        "keyArns": keys.arns,
        "ingressLoadBalancerArn": ingress.load_balancer_arn,
    }
