"""The VPC: public, private app and isolated data subnets per AZ, NAT, flow logs, endpoints."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reevo_infra import cidr, iam
from reevo_infra.naming import child_name, tags

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs", "kms")


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of the `Network` component."""

    cidr_block: str
    availability_zones: Sequence[str]
    """One entry per AZ to use, in order; the subnet plan gives each its blocks."""
    nat_per_az: bool
    """True: one NAT gateway per AZ (prod). False: one NAT shared by every AZ (dev cost)."""
    flow_log_retention_days: int
    logs_key_arn: pulumi.Input[str]
    region: str
    tags: Mapping[str, str]


class Network(pulumi.ComponentResource):
    """A VPC built for RNF-CF-01 and RNF-S-04.

    Per AZ: a public subnet (load balancers, NAT), a private app subnet (nodes and pods,
    outbound through that AZ's NAT) and an isolated data subnet with no route off the VPC.
    The default security group is emptied, every packet is flow-logged to a log group
    encrypted with the logs key, and AWS APIs are reached through VPC endpoints.
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    app_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:network:Network", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        azs = list(args.availability_zones)
        plan = cidr.plan(ipaddress.IPv4Network(args.cidr_block), len(azs))

        vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags(args.tags, name),
            opts=child,
        )
        self.vpc_id = vpc.id

        # Adopting the default group with no rules strips AWS's allow-all-within-group rule.
        aws.ec2.DefaultSecurityGroup(
            child_name(name, "default-sg"),
            vpc_id=vpc.id,
            tags=tags(args.tags, child_name(name, "default-sg")),
            opts=child,
        )

        igw = aws.ec2.InternetGateway(
            child_name(name, "igw"),
            vpc_id=vpc.id,
            tags=tags(args.tags, child_name(name, "igw")),
            opts=child,
        )

        public = self._subnets("public", plan.public, azs, vpc, {"kubernetes.io/role/elb": "1"})
        app = self._subnets("app", plan.app, azs, vpc, {"kubernetes.io/role/internal-elb": "1"})
        data = self._subnets("data", plan.data, azs, vpc, {})

        public_rt = self._route_table("public", vpc)
        aws.ec2.Route(
            child_name(name, "public-internet"),
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        self._associate("public", public_rt, public)

        nats = self._nat_gateways(public, azs, igw)
        app_rts = []
        for i, az in enumerate(azs):
            rt = self._route_table(f"app-{az}", vpc)
            nat = nats[i] if args.nat_per_az else nats[0]
            aws.ec2.Route(
                child_name(name, "app", az, "egress"),
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            self._associate(f"app-{az}", rt, [app[i]])
            app_rts.append(rt)

        # The data tier gets the VPC's local route and nothing else: no internet, no NAT.
        data_rt = self._route_table("data", vpc)
        self._associate("data", data_rt, data)

        flow_log_group = self._flow_logs(vpc)
        endpoint_sg = self._endpoints(vpc, app, [*app_rts, data_rt])

        self.public_subnet_ids = [s.id for s in public]
        self.app_subnet_ids = [s.id for s in app]
        self.data_subnet_ids = [s.id for s in data]
        self.cidr_block = vpc.cidr_block
        self.availability_zones = azs
        self.flow_log_group_arn = flow_log_group.arn
        self.endpoint_security_group_id = endpoint_sg.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "app_subnet_ids": self.app_subnet_ids,
                "data_subnet_ids": self.data_subnet_ids,
                "flow_log_group_arn": self.flow_log_group_arn,
                "endpoint_security_group_id": self.endpoint_security_group_id,
            }
        )

    def _subnets(
        self,
        tier: str,
        blocks: Sequence[object],
        azs: Sequence[str],
        vpc: aws.ec2.Vpc,
        extra_tags: Mapping[str, str],
    ) -> list[aws.ec2.Subnet]:
        subnets = []
        for block, az in zip(blocks, azs, strict=True):
            subnet_name = child_name(self._name, tier, az)
            subnets.append(
                aws.ec2.Subnet(
                    subnet_name,
                    vpc_id=vpc.id,
                    cidr_block=str(block),
                    availability_zone=az,
                    # Only the public tier may hand out public addresses (RNF-S-04).
                    map_public_ip_on_launch=tier == "public",
                    tags=tags(self._args.tags, subnet_name, Tier=tier, **extra_tags),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return subnets

    def _route_table(self, role: str, vpc: aws.ec2.Vpc) -> aws.ec2.RouteTable:
        rt_name = child_name(self._name, role, "rt")
        return aws.ec2.RouteTable(
            rt_name,
            vpc_id=vpc.id,
            tags=tags(self._args.tags, rt_name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _associate(
        self, role: str, rt: aws.ec2.RouteTable, subnets: Sequence[aws.ec2.Subnet]
    ) -> None:
        for i, subnet in enumerate(subnets):
            aws.ec2.RouteTableAssociation(
                child_name(self._name, role, "rta", i),
                route_table_id=rt.id,
                subnet_id=subnet.id,
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _nat_gateways(
        self,
        public: Sequence[aws.ec2.Subnet],
        azs: Sequence[str],
        igw: aws.ec2.InternetGateway,
    ) -> list[aws.ec2.NatGateway]:
        count = len(azs) if self._args.nat_per_az else 1
        nats = []
        for subnet, az in list(zip(public, azs, strict=True))[:count]:
            nat_name = child_name(self._name, "nat", az)
            eip = aws.ec2.Eip(
                child_name(nat_name, "eip"),
                domain="vpc",
                tags=tags(self._args.tags, child_name(nat_name, "eip")),
                opts=pulumi.ResourceOptions(parent=self),
            )
            nats.append(
                aws.ec2.NatGateway(
                    nat_name,
                    allocation_id=eip.allocation_id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags=tags(self._args.tags, nat_name),
                    # A public NAT gateway cannot pass traffic until the VPC has its gateway.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )
        return nats

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        child = pulumi.ResourceOptions(parent=self)
        log_name = child_name(self._name, "flow-logs")
        group = aws.cloudwatch.LogGroup(
            log_name,
            retention_in_days=self._args.flow_log_retention_days,
            kms_key_id=self._args.logs_key_arn,
            tags=tags(self._args.tags, log_name),
            opts=child,
        )
        role = aws.iam.Role(
            child_name(log_name, "role"),
            assume_role_policy=iam.service_trust("vpc-flow-logs.amazonaws.com"),
            tags=tags(self._args.tags, child_name(log_name, "role")),
            opts=child,
        )
        aws.iam.RolePolicy(
            child_name(log_name, "policy"),
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            log_name,
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=tags(self._args.tags, log_name),
            opts=child,
        )
        return group

    def _endpoints(
        self,
        vpc: aws.ec2.Vpc,
        app: Sequence[aws.ec2.Subnet],
        route_tables: Sequence[aws.ec2.RouteTable],
    ) -> aws.ec2.SecurityGroup:
        child = pulumi.ResourceOptions(parent=self)
        region = self._args.region
        sg_name = child_name(self._name, "endpoints-sg")
        sg = aws.ec2.SecurityGroup(
            sg_name,
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to AWS interface endpoints",
            tags=tags(self._args.tags, sg_name),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            child_name(sg_name, "https"),
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=vpc.cidr_block,
            description="HTTPS from the VPC",
            tags=tags(self._args.tags, child_name(sg_name, "https")),
            opts=child,
        )

        # S3 is a gateway endpoint (free, route based); ECR stores image layers in S3.
        aws.ec2.VpcEndpoint(
            child_name(self._name, "s3"),
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in route_tables],
            tags=tags(self._args.tags, child_name(self._name, "s3")),
            opts=child,
        )
        for service in INTERFACE_ENDPOINTS:
            ep_name = child_name(self._name, service.replace(".", "-"))
            aws.ec2.VpcEndpoint(
                ep_name,
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in app],
                security_group_ids=[sg.id],
                tags=tags(self._args.tags, ep_name),
                opts=child,
            )
        return sg
