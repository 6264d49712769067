"""Security-group admission rules, kept as resources apart from the groups they open.

A data store's security group starts closed. Each client is admitted by its own
`aws.vpc.SecurityGroupIngressRule`, which depends only on the two security groups and never
on the database or cache behind them. So the compute tier can admit its cluster later, from
stack.py, without the database waiting for the cluster: on a real `pulumi up` a Multi-AZ
database and an EKS cluster (15-20 minutes each) are created side by side.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

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
