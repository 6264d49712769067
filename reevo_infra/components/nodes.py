"""The cluster's worker nodes: one EKS managed node group across every private app subnet.

Built as children of the `Cluster` component (not a component of their own) because the
cluster's Deployment add-ons must wait for the nodes, and components sit under the stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from reevo_infra import eks, iam
from reevo_infra.components.ingress import NODE_PORT
from reevo_infra.naming import child_name, tags

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)


@dataclass(frozen=True)
class NodeGroupArgs:
    """Inputs of the `NodeGroup` component."""

    cluster_name: str
    """The EKS cluster's name, known before it exists; also names the autoscaler tags."""
    kubernetes_version: str
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private app subnets, one per AZ; never a public subnet (RNF-S-04)."""
    node_security_group_id: pulumi.Input[str]
    """The EKS-created cluster security group, which managed nodes carry."""
    vpc_cidr: pulumi.Input[str]
    volume_key_arn: pulumi.Input[str]
    target_group_arn: pulumi.Input[str]
    """The internal NLB's target group; every node joins it on NODE_PORT."""
    instance_types: Sequence[str]
    architecture: str
    min_size: int
    desired_size: int
    max_size: int
    disk_gib: int
    partition: str
    tags: Mapping[str, str]
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """Resources the node group must wait for: the cluster and the add-ons nodes boot with."""
    max_unavailable: int = 1
    """Nodes replaced at a time during a rolling update; one keeps capacity in every AZ."""


@dataclass(frozen=True)
class Nodes:
    """What the node group exposes to the cluster and the stack."""

    group: aws.eks.NodeGroup
    node_group_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    autoscaling_group_name: pulumi.Output[str]


def create_node_group(parent: pulumi.Resource, name: str, args: NodeGroupArgs) -> Nodes:
    """An EKS managed node group with its IAM role and a hardened launch template.

    Nodes live only in the private app subnets, require IMDSv2, boot from gp3 root volumes
    encrypted with the cluster key (RNF-S-01), and scale between min and max under the
    Cluster Autoscaler (RNF-ED-01). The node group's Auto Scaling group is registered with
    the internal NLB's target group, and NODE_PORT is opened to the VPC only. Every resource
    is a child of `parent`.
    """
    child = pulumi.ResourceOptions(parent=parent)

    role = aws.iam.Role(
        child_name(name, "role"),
        assume_role_policy=iam.service_trust("ec2.amazonaws.com"),
        tags=tags(args.tags, child_name(name, "role")),
        opts=child,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            child_name(name, "role", policy.lower().replace("_", "-")),
            role=role.name,
            policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}",
            opts=child,
        )
        for policy in NODE_POLICIES
    ]

    template = _launch_template(parent, name, args)

    autoscaler_tags = {
        "k8s.io/cluster-autoscaler/enabled": "true",
        f"k8s.io/cluster-autoscaler/{args.cluster_name}": "owned",
    }
    group = aws.eks.NodeGroup(
        name,
        cluster_name=args.cluster_name,
        version=args.kubernetes_version,
        node_role_arn=role.arn,
        subnet_ids=list(args.subnet_ids),
        ami_type=eks.AMI_TYPES[args.architecture],
        capacity_type="ON_DEMAND",
        instance_types=list(args.instance_types),
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=args.min_size,
            desired_size=args.desired_size,
            max_size=args.max_size,
        ),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(
            max_unavailable=args.max_unavailable,
        ),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id,
            version=template.latest_version.apply(str),
        ),
        tags=tags(args.tags, name, **autoscaler_tags),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[*attachments, *args.after],
            # The Cluster Autoscaler owns the desired size once nodes run; reapplying the
            # configured value would undo its scaling on every `pulumi up`.
            ignore_changes=["scalingConfig.desiredSize"],
        ),
    )
    asg_name = group.resources.apply(_asg_name)

    aws.autoscaling.Attachment(
        child_name(name, "nlb"),
        autoscaling_group_name=asg_name,
        lb_target_group_arn=args.target_group_arn,
        opts=child,
    )
    # Instance targets keep the client address, so the NLB's health checks and the
    # forwarded traffic arrive from private addresses inside the VPC.
    aws.vpc.SecurityGroupIngressRule(
        child_name(name, "node-port"),
        security_group_id=args.node_security_group_id,
        ip_protocol="tcp",
        from_port=NODE_PORT,
        to_port=NODE_PORT,
        cidr_ipv4=args.vpc_cidr,
        description="Ingress controller NodePort from the internal NLB",
        tags=tags(args.tags, child_name(name, "node-port")),
        opts=child,
    )
    # The API endpoint is private: the deploy runner reaches it from inside the VPC, and the
    # cluster security group otherwise admits only its own members.
    aws.vpc.SecurityGroupIngressRule(
        child_name(name, "api-from-vpc"),
        security_group_id=args.node_security_group_id,
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4=args.vpc_cidr,
        description="Kubernetes API from inside the VPC (deploy runner)",
        tags=tags(args.tags, child_name(name, "api-from-vpc")),
        opts=child,
    )

    return Nodes(
        group=group,
        node_group_name=group.node_group_name,
        role_arn=role.arn,
        autoscaling_group_name=asg_name,
    )


def _launch_template(
    parent: pulumi.Resource, name: str, args: NodeGroupArgs
) -> aws.ec2.LaunchTemplate:
    lt_name = child_name(name, "lt")
    instance_tags = tags(args.tags, name)
    return aws.ec2.LaunchTemplate(
        lt_name,
        description="EKS nodes: IMDSv2 only, encrypted gp3 root volume",
        # No image or instance profile: EKS picks the AMI for ami_type and adds the role.
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            # Hop limit 1 keeps pods (one network hop further) from reading the node
            # role's credentials; pods that call AWS use their own IRSA roles, and the
            # host-network agents (aws-node, kube-proxy) are not a hop away.
            http_put_response_hop_limit=1,
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.disk_gib,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=args.volume_key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
            for kind in ("instance", "volume", "network-interface")
        ],
        tags=tags(args.tags, lt_name),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _asg_name(resources: Sequence[aws.eks.outputs.NodeGroupResource]) -> str:
    groups = resources[0].autoscaling_groups or [] if resources else []
    if not groups or not groups[0].name:
        raise ValueError("EKS reported no Auto Scaling group for the node group")
    return groups[0].name
