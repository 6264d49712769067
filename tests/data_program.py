"""A small program that gives the data tier client security groups, for the admission tests.

The real stacks admit no client yet (the compute tier lands separately), so this program
builds the Database and Cache with one client group each, and admits a second, "late"
group the way stack.py will admit the cluster: with `access.admit` against the exposed
security group id. It is evaluated once per test session.
"""

from __future__ import annotations

import functools
import tempfile
import textwrap
from pathlib import Path

from reevo_infra import offline
from reevo_infra.offline import Recording

STACK = "clients"

PROGRAM = textwrap.dedent("""
    import pulumi_aws as aws

    from reevo_infra.access import admit
    from reevo_infra.components.cache import Cache, CacheArgs
    from reevo_infra.components.database import Database, DatabaseArgs

    tags = {"Environment": "test"}
    subnets = ["subnet-0a", "subnet-0b"]
    client = aws.ec2.SecurityGroup("client", vpc_id="vpc-0")
    late = aws.ec2.SecurityGroup("late", vpc_id="vpc-0")
    key = "arn:aws:kms:sa-east-1:123456789012:key/data"
    database = Database("t-db", DatabaseArgs(
        vpc_id="vpc-0", data_subnet_ids=subnets, data_key_arn=key, partition="aws",
        engine_version="17", instance_class="db.t4g.medium", allocated_storage=20,
        max_allocated_storage=40, multi_az=False, backup_retention_days=1,
        backup_window="05:00-06:00", maintenance_window="sun:06:30-sun:07:30",
        deletion_protection=False, final_snapshot=False,
        performance_insights_retention_days=7, monitoring_interval_seconds=60,
        slow_statement_ms=1000, tags=tags, client_security_group_ids=[client.id],
    ))
    cache = Cache("t-cache", CacheArgs(
        vpc_id="vpc-0", data_subnet_ids=subnets, availability_zones=["az-a", "az-b"],
        data_key_arn=key, engine_version="8.0", node_type="cache.t4g.micro",
        num_cache_clusters=1, automatic_failover=False, multi_az=False,
        snapshot_retention_days=1, snapshot_window="04:00-05:00",
        maintenance_window="sun:07:30-sun:08:30", tags=tags,
        client_security_group_ids=[client.id],
    ))
    for target, sg, port in (("db", database.security_group_id, 5432),
                             ("cache", cache.security_group_id, 6379)):
        admit(f"t-{target}-from-late", security_group_id=sg, source_security_group_id=late.id,
              port=port, description="late client", tags=tags)
""")


@functools.cache
def clients_recording() -> Recording:
    """The recording of PROGRAM, evaluated once."""
    project = Path(tempfile.mkdtemp(prefix="reevo-data-"))
    (project / "__main__.py").write_text(PROGRAM)
    (project / f"Pulumi.{STACK}.yaml").write_text("config: {}\n")
    return offline.evaluate(STACK, project_dir=project)
