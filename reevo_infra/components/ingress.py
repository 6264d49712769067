"""The private way in: an internal Network Load Balancer that only the API Gateway reaches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reevo_infra.naming import child_name, tags

NODE_PORT = 30080
"""The NodePort the in-cluster ingress controller listens on, on every node."""
NAME_PREFIX = "reevo-"
"""AWS allows at most six characters of prefix for load balancer and target group names."""


@dataclass(frozen=True)
class IngressArgs:
    """Inputs of the `Ingress` component."""

    vpc_id: pulumi.Input[str]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]
    deletion_protection: bool = False


class Ingress(pulumi.ComponentResource):
    """An internal NLB across the private app subnets, forwarding TCP 80 to the nodes.

    The NLB is created here, by Pulumi, rather than by a controller inside the cluster, so
    its ARN is known at deploy time for the API Gateway VPC link (RF-CAD-002) and the
    Kubernetes side stays a plain NodePort Service that any cloud can run (RNF-P-01).
    The compute tier registers its node groups as targets.
    """

    load_balancer_arn: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:edge:Ingress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Load balancer and target group names stop at 32 characters, which an auto-name
        # (logical name plus a suffix) soon passes; a prefix keeps them short and unique, so
        # a replacement can still be created before the old one goes.
        nlb = aws.lb.LoadBalancer(
            name,
            name_prefix=NAME_PREFIX,
            load_balancer_type="network",
            internal=True,
            subnets=list(args.app_subnet_ids),
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=args.deletion_protection,
            tags=tags(args.tags, name),
            opts=child,
        )

        target_group = aws.lb.TargetGroup(
            child_name(name, "nodes"),
            name_prefix=NAME_PREFIX,
            port=NODE_PORT,
            protocol="TCP",
            target_type="instance",
            vpc_id=args.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                protocol="TCP",
                port="traffic-port",
                interval=10,
                healthy_threshold=2,
                unhealthy_threshold=2,
            ),
            tags=tags(args.tags, child_name(name, "nodes")),
            opts=child,
        )

        aws.lb.Listener(
            child_name(name, "http"),
            load_balancer_arn=nlb.arn,
            port=80,
            protocol="TCP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="forward",
                    target_group_arn=target_group.arn,
                )
            ],
            tags=tags(args.tags, child_name(name, "http")),
            opts=child,
        )

        self.load_balancer_arn = nlb.arn
        self.load_balancer_arn_suffix = nlb.arn_suffix
        self.dns_name = nlb.dns_name
        self.target_group_arn = target_group.arn
        self.target_group_arn_suffix = target_group.arn_suffix
        self.register_outputs(
            {
                "load_balancer_arn": self.load_balancer_arn,
                "dns_name": self.dns_name,
                "target_group_arn": self.target_group_arn,
                "load_balancer_arn_suffix": self.load_balancer_arn_suffix,
                "target_group_arn_suffix": self.target_group_arn_suffix,
            }
        )
