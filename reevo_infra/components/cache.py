"""The marketplace read cache: an ElastiCache for Valkey replication group.

Valkey rather than Redis OSS: it is the BSD-licensed, Linux Foundation continuation of Redis
OSS 7.2, so every Redis client and command the services use works unchanged; ElastiCache
prices Valkey nodes below Redis OSS nodes, ships its new engine versions for Valkey first
(Redis OSS stops at 7.1 there), and other clouds offer managed Valkey too (RNF-P-01).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from reevo_infra.access import closed_security_group
from reevo_infra.naming import child_name, tags

PORT = 6379
ENGINE = "valkey"
PARAMETER_FAMILIES = {"7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8", "8.2": "valkey8"}
"""ElastiCache parameter group family of each pinned Valkey version."""

AUTH_TOKEN_SPECIALS = "!&#$^<>-"
"""The only non-alphanumeric characters ElastiCache accepts in an AUTH token."""

# Replication group ids: a letter, then letters, digits or single hyphens, <= 40 chars.
_GROUP_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$")


@dataclass(frozen=True)
class CacheArgs:
    """Inputs of the `Cache` component. Sizes and windows come from `CacheConfig`."""

    vpc_id: pulumi.Input[str]
    data_subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated data subnets, one per AZ; the subnet group spans all of them."""
    availability_zones: Sequence[str]
    """The AZs of those subnets, in order; nodes are spread across them round robin."""
    data_key_arn: pulumi.Input[str]
    """Customer KMS key for data at rest, snapshots and the AUTH-token secret."""
    engine_version: str
    node_type: str
    num_cache_clusters: int
    automatic_failover: bool
    multi_az: bool
    snapshot_retention_days: int
    snapshot_window: str
    maintenance_window: str
    tags: Mapping[str, str]
    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    """Security groups admitted on 6379. Defaults to none; see `reevo_infra.access.admit`."""
    final_snapshot: bool = False
    """Take a snapshot named after the group when it is deleted; prod sets it."""
    protect: bool = False
    """Pulumi `protect` on the replication group, its token and its secret; prod sets it."""


class Cache(pulumi.ComponentResource):
    """A Valkey replication group in the isolated data subnets, with its own security group.

    Creates a cache subnet group, a parameter group of the version's family, a security
    group with one ingress rule per admitted group, a random AUTH token kept in a Secrets
    Manager secret encrypted with the customer data key, and the replication group:
    encrypted at rest with that key and in transit (TLS required), AUTH on, daily snapshots,
    and in prod several nodes across AZs with automatic failover.
    """

    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:data:Cache", name, None, opts)
        if not _GROUP_ID.match(name):
            raise ValueError(f"{name!r} is not a valid ElastiCache replication group id")
        if args.engine_version not in PARAMETER_FAMILIES:
            raise ValueError(f"no parameter group family known for Valkey {args.engine_version}")
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect)

        subnet_group = aws.elasticache.SubnetGroup(
            child_name(name, "subnets"),
            subnet_ids=list(args.data_subnet_ids),
            description=f"{name}: isolated data subnets",
            tags=tags(args.tags, child_name(name, "subnets")),
            opts=child,
        )

        parameter_group = aws.elasticache.ParameterGroup(
            child_name(name, "params"),
            family=PARAMETER_FAMILIES[args.engine_version],
            description=f"{name}: read cache, least-recently-used eviction",
            # Every key is a re-readable copy of marketplace data, so under memory pressure
            # any key may go, not only those with a TTL.
            parameters=[
                aws.elasticache.ParameterGroupParameterArgs(
                    name="maxmemory-policy", value="allkeys-lru"
                )
            ],
            tags=tags(args.tags, child_name(name, "params")),
            opts=child,
        )

        security_group = closed_security_group(
            child_name(name, "sg"),
            vpc_id=args.vpc_id,
            port=PORT,
            service="Valkey",
            clients=args.client_security_group_ids,
            tags=args.tags,
            parent=self,
        )

        token = random.RandomPassword(
            child_name(name, "auth-token"),
            length=64,
            special=True,
            override_special=AUTH_TOKEN_SPECIALS,
            min_upper=1,
            min_lower=1,
            min_numeric=1,
            opts=keep,
        )

        azs = list(args.availability_zones)
        group = aws.elasticache.ReplicationGroup(
            name,
            replication_group_id=name,
            description=f"{name}: marketplace read cache",
            engine=ENGINE,
            engine_version=args.engine_version,
            auto_minor_version_upgrade=True,
            node_type=args.node_type,
            port=PORT,
            num_cache_clusters=args.num_cache_clusters,
            preferred_cache_cluster_azs=[azs[i % len(azs)] for i in range(args.num_cache_clusters)],
            automatic_failover_enabled=args.automatic_failover,
            multi_az_enabled=args.multi_az,
            subnet_group_name=subnet_group.name,
            security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            at_rest_encryption_enabled=True,
            kms_key_id=args.data_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.result,
            # SET replaces the token outright; ROTATE would also keep accepting the old one
            # (or, on a first token, no token at all) until a later change.
            auth_token_update_strategy="SET",
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window=args.snapshot_window,
            maintenance_window=args.maintenance_window,
            final_snapshot_identifier=f"{name}-final" if args.final_snapshot else None,
            tags=tags(args.tags, name),
            opts=keep,
        )

        secret_name = child_name(name, "auth")
        secret = aws.secretsmanager.Secret(
            secret_name,
            description=f"{name}: Valkey AUTH token and endpoint",
            kms_key_id=args.data_key_arn,
            recovery_window_in_days=30,
            tags=tags(args.tags, secret_name),
            opts=keep,
        )
        # `token.result` is a secret output, so the document built from it stays secret.
        document = pulumi.Output.all(group.primary_endpoint_address, token.result).apply(
            lambda v: json.dumps({"host": v[0], "port": PORT, "tls": True, "authToken": v[1]})
        )
        version = aws.secretsmanager.SecretVersion(
            secret_name,
            secret_id=secret.id,
            secret_string=document,
            opts=keep,
        )

        # ElastiCache names a replication group's nodes <group id>-001, -002, ...; CloudWatch
        # reports their metrics under those ids.
        self.node_ids = [f"{name}-{i:03d}" for i in range(1, args.num_cache_clusters + 1)]
        self.primary_endpoint = group.primary_endpoint_address
        self.reader_endpoint = group.reader_endpoint_address
        self.port = group.port.apply(lambda p: p or PORT)
        # Readers of the ARN wait for the value too: an empty secret would fail their first read.
        self.secret_arn = pulumi.Output.all(secret.arn, version.id).apply(lambda v: v[0])
        self.security_group_id = security_group.id
        self.register_outputs(
            {
                "node_ids": self.node_ids,
                "primary_endpoint": self.primary_endpoint,
                "reader_endpoint": self.reader_endpoint,
                "port": self.port,
                "secret_arn": self.secret_arn,
                "security_group_id": self.security_group_id,
            }
        )
