"""The system of record: RDS PostgreSQL for credit applications, payments and investments."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reevo_infra import iam
from reevo_infra.access import closed_security_group
from reevo_infra.naming import child_name, tags

PORT = 5432
LOG_EXPORTS = ("postgresql", "upgrade")
MASTER_USERNAME = "reevo_admin"
DATABASE_NAME = "reevo"

# RDS instance identifiers: a letter, then letters, digits or single hyphens, <= 63 chars.
_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")


def final_snapshot_identifier(identifier: str) -> str:
    """The snapshot RDS takes when the instance `identifier` is deleted."""
    return f"{identifier}-final"


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of the `Database` component. Sizes and windows come from `DatabaseConfig`."""

    vpc_id: pulumi.Input[str]
    data_subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated data subnets, one per AZ; the subnet group spans all of them."""
    data_key_arn: pulumi.Input[str]
    """Customer KMS key for storage, Performance Insights and the master-user secret."""
    partition: str
    engine_version: str
    """PostgreSQL major version ("16" or "17"); RDS picks and upgrades the minor version."""
    instance_class: str
    allocated_storage: int
    max_allocated_storage: int
    multi_az: bool
    backup_retention_days: int
    backup_window: str
    maintenance_window: str
    deletion_protection: bool
    final_snapshot: bool
    performance_insights_retention_days: int
    monitoring_interval_seconds: int
    slow_statement_ms: int
    tags: Mapping[str, str]
    logs_key_arn: pulumi.Input[str]
    """Encrypts the log groups RDS exports to (RNF-S-01)."""
    log_retention_days: int
    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups admitted on 5432. Defaults to none; later tiers can also call
    `reevo_infra.access.admit` with `security_group_id` instead, so that the database never
    waits for them."""
    protect: bool = False
    """Pulumi `protect` on the instance; prod sets it."""


class Database(pulumi.ComponentResource):
    """An RDS PostgreSQL instance in the isolated data subnets, with its own security group.

    Creates a DB subnet group, a parameter group that forces TLS and logs slow statements,
    an enhanced-monitoring role, a security group with one ingress rule per admitted group,
    and the instance: gp3 storage that grows on its own, encrypted with the customer data
    key; automated backups (point-in-time recovery); an RDS-managed master password in
    Secrets Manager; IAM authentication; Performance Insights; log exports. Never public.
    """

    address: pulumi.Output[str]
    port: pulumi.Output[int]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:data:Database", name, None, opts)
        if not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid RDS instance identifier")
        child = pulumi.ResourceOptions(parent=self)

        subnet_group = aws.rds.SubnetGroup(
            child_name(name, "subnets"),
            subnet_ids=list(args.data_subnet_ids),
            description=f"{name}: isolated data subnets",
            tags=tags(args.tags, child_name(name, "subnets")),
            opts=child,
        )

        parameter_group = aws.rds.ParameterGroup(
            child_name(name, "params"),
            family=f"postgres{args.engine_version}",
            description=f"{name}: TLS only, slow statements logged",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(
                    name="rds.force_ssl", value="1", apply_method="immediate"
                ),
                aws.rds.ParameterGroupParameterArgs(
                    name="log_min_duration_statement",
                    value=str(args.slow_statement_ms),
                    apply_method="immediate",
                ),
            ],
            tags=tags(args.tags, child_name(name, "params")),
            opts=child,
        )

        security_group = closed_security_group(
            child_name(name, "sg"),
            vpc_id=args.vpc_id,
            port=PORT,
            service="PostgreSQL",
            clients=args.client_security_group_ids,
            tags=args.tags,
            parent=self,
        )

        monitoring_role, monitoring_policy = self._monitoring_role(name, args)

        # RDS would create its export log groups unencrypted and never expiring; made here
        # first, they are encrypted with the logs key and kept for a bounded time (RNF-S-04).
        log_groups = [
            aws.cloudwatch.LogGroup(
                child_name(name, "logs", export),
                name=f"/aws/rds/instance/{name}/{export}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.logs_key_arn,
                tags=tags(args.tags, child_name(name, "logs", export)),
                opts=child,
            )
            for export in LOG_EXPORTS
        ]

        # The final snapshot's name is fixed, so a second delete under the same name fails
        # until the first snapshot is renamed or removed: deliberate, it is never overwritten.
        snapshot_id = final_snapshot_identifier(name) if args.final_snapshot else None
        instance = aws.rds.Instance(
            name,
            identifier=name,
            engine="postgres",
            engine_version=args.engine_version,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            instance_class=args.instance_class,
            db_name=DATABASE_NAME,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.data_key_arn,
            iam_database_authentication_enabled=True,
            port=PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            multi_az=args.multi_az,
            parameter_group_name=parameter_group.name,
            storage_type="gp3",
            allocated_storage=args.allocated_storage,
            max_allocated_storage=args.max_allocated_storage,
            storage_encrypted=True,
            kms_key_id=args.data_key_arn,
            backup_retention_period=args.backup_retention_days,
            backup_window=args.backup_window,
            maintenance_window=args.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=snapshot_id is None,
            final_snapshot_identifier=snapshot_id,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.data_key_arn,
            performance_insights_retention_period=args.performance_insights_retention_days,
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            tags=tags(args.tags, name),
            # RDS rejects a monitoring role that does not yet carry its policy, and must find
            # its log groups already made.
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[monitoring_policy, *log_groups],
            ),
        )

        self.identifier = instance.identifier
        self.address = instance.address
        self.port = instance.port
        self.secret_arn = instance.master_user_secrets.apply(
            lambda secrets: str(secrets[0].secret_arn) if secrets else ""
        )
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "identifier": self.identifier,
                "address": self.address,
                "port": self.port,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
            }
        )

    def _monitoring_role(
        self, name: str, args: DatabaseArgs
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        role_name = child_name(name, "monitoring")
        role = aws.iam.Role(
            role_name,
            description=f"{name}: RDS enhanced monitoring publishes OS metrics",
            assume_role_policy=iam.service_trust("monitoring.rds.amazonaws.com"),
            tags=tags(args.tags, role_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = aws.iam.RolePolicyAttachment(
            child_name(role_name, "policy"),
            role=role.name,
            policy_arn=(
                f"arn:{args.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, policy
