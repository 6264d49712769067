"""Customer-managed KMS keys, one per purpose, shared by every tier."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from reevo_infra.naming import child_name, tags

PURPOSES = {
    "data": "RDS storage and Performance Insights, ElastiCache, Secrets Manager, ECR",
    "logs": "CloudWatch log groups: flow logs, EKS audit, API access, WAF",
    "cluster": "EKS secret envelope encryption and node EBS volumes",
    "alerts": "SNS alarm notifications",
}


@dataclass(frozen=True)
class KeysArgs:
    """What the keys need to know about the account they live in."""

    account_id: str
    partition: str
    region: str
    tags: Mapping[str, str]
    protect: bool = False
    """Pulumi `protect` on every key; prod sets it so a destroy cannot orphan encrypted data."""


def key_policy(purpose: str, account_id: str, partition: str, region: str) -> str:
    """The key policy for `purpose`: root stays admin, plus the AWS services that need it."""
    root = f"arn:{partition}:iam::{account_id}:root"
    statements: list[dict[str, Any]] = [
        {
            # Without this the key could lock out every principal, root included.
            "Sid": "AccountRootAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    use = [
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    ]
    if purpose == "logs":
        log_groups = f"arn:{partition}:logs:{region}:{account_id}:*"
        statements.append(
            {
                "Sid": "CloudWatchLogsEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": use,
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            }
        )
    if purpose == "cluster":
        # Managed node groups launch through the Auto Scaling service-linked role, which
        # must be able to use the key to create encrypted EBS volumes.
        asg_role = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/"
            "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        )
        statements += [
            {
                "Sid": "AutoScalingUsesKey",
                "Effect": "Allow",
                "Principal": {"AWS": asg_role},
                "Action": use,
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingGrantsForVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": asg_role},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
        ]
    if purpose == "alerts":
        statements.append(
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class Keys(pulumi.ComponentResource):
    """Symmetric KMS keys (AES-256-GCM, rotated yearly) and their aliases, one per purpose.

    Every store of data in the stack is encrypted with one of these keys (RNF-S-01), never
    with an AWS-managed key, so access can be audited and revoked per purpose.
    """

    arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:security:Keys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self.arns = {}
        for purpose, uses in PURPOSES.items():
            key = aws.kms.Key(
                child_name(name, purpose),
                description=f"reevo {purpose}: {uses}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=30,
                policy=key_policy(purpose, args.account_id, args.partition, args.region),
                tags=tags(args.tags, child_name(name, purpose), Purpose=purpose),
                opts=child,
            )
            aws.kms.Alias(
                child_name(name, purpose, "alias"),
                name=f"alias/{name}-{purpose}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.arns[purpose] = key.arn

        self.register_outputs({f"{p}_key_arn": arn for p, arn in self.arns.items()})
