"""Security-group admission rules, kept as resources apart from the groups they open.

A data store's security group starts closed. Each client is admitted by its own
`aws.vpc.SecurityGroupIngressRule`, which depends only on the two security groups and never
on the database or cache behind them. So the compute tier can admit its cluster later, from
stack.py, without the database waiting for the cluster: on a real `pulumi up` a Multi-AZ
database and an EKS cluster (15-20 minutes each) are created side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from reevo_infra.naming import child_name
from reevo_infra.naming import tags as name_tags


def admit(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    source_security_group_id: pulumi.Input[str],
    port: int,
    description: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> aws.vpc.SecurityGroupIngressRule:
    """Admit TCP `port` into `security_group_id` from members of `source_security_group_id`.

    Never a CIDR: only a named security group is admitted (RNF-S-04).
    """
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=security_group_id,
        referenced_security_group_id=source_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        tags=name_tags(tags, name),
        opts=opts,
    )


def closed_security_group(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    port: int,
    service: str,
    clients: Sequence[pulumi.Input[str]],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """A data store's security group: no inline rules, and TCP `port` from `clients` only.

    Each client gets its own rule resource (`{name}-from-{i}`), so the store behind the group
    never waits for a client to exist.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    group = aws.ec2.SecurityGroup(
        name,
        vpc_id=vpc_id,
        description=f"{name}: {service} from admitted security groups only",
        tags=name_tags(tags, name),
        opts=opts,
    )
    for i, source in enumerate(clients):
        admit(
            child_name(name, "from", i),
            security_group_id=group.id,
            source_security_group_id=source,
            port=port,
            description=f"{service} from an admitted client group",
            tags=tags,
            opts=opts,
        )
    return group
