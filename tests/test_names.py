"""Physical names stay within AWS's limits for any stack name config accepts."""

from __future__ import annotations

import pytest

from reevo_infra import config, offline
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording

# (type, state property holding the physical name) -> AWS's maximum length.
LIMITS = {
    ("aws:lb/loadBalancer:LoadBalancer", "name"): 32,
    ("aws:lb/targetGroup:TargetGroup", "name"): 32,
    ("aws:iam/role:Role", "name"): 64,
    ("aws:iam/policy:Policy", "name"): 128,
    ("aws:rds/instance:Instance", "identifier"): 63,
    ("aws:rds/instance:Instance", "finalSnapshotIdentifier"): 255,
    ("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"): 40,
    ("aws:elasticache/replicationGroup:ReplicationGroup", "finalSnapshotIdentifier"): 255,
    ("aws:eks/cluster:Cluster", "name"): 100,
    ("aws:eks/nodeGroup:NodeGroup", "nodeGroupName"): 63,
    ("aws:ec2/securityGroup:SecurityGroup", "name"): 255,
    ("aws:cognito/userPool:UserPool", "name"): 128,
    ("aws:wafv2/webAcl:WebAcl", "name"): 128,
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "name"): 255,
    ("aws:cloudwatch/dashboard:Dashboard", "dashboardName"): 255,
    ("aws:ecr/repository:Repository", "name"): 256,
    ("kubernetes:helm.sh/v3:Release", "name"): 53,
}
LONGEST_STACK = "sandbox-0123"


@pytest.fixture(scope="module")
def longest() -> Recording:
    """dev's config under the longest stack name config accepts."""
    return offline.evaluate(LONGEST_STACK, config=offline.stack_config("dev"))


def test_the_longest_accepted_stack_name_is_accepted() -> None:
    assert config.stack_problems(LONGEST_STACK) == []
    assert config.stack_problems(LONGEST_STACK + "x") != []


@pytest.mark.parametrize("stack", ["dev", "prod", LONGEST_STACK])
def test_physical_names_fit_aws_limits(
    stack: str, recordings: dict[str, Recording], longest: Recording
) -> None:
    rec = longest if stack == LONGEST_STACK else recordings[stack]
    checked = 0
    for (typ, prop), limit in LIMITS.items():
        for r in rec.of_type(typ):
            value = r.state.get(prop)
            if value is None:
                continue
            checked += 1
            assert len(str(value)) <= limit, f"{r.urn}: {prop} {value!r} > {limit} characters"
    assert checked >= 20


@pytest.mark.parametrize(
    "stack", ["Prod", "prod.sp", "production-sao-paulo", "p", "9lives", "prod-"]
)
def test_bad_stack_names_are_refused_before_any_resource(stack: str) -> None:
    monitor = offline.RecordingMonitor(offline.FakeCloud("sa-east-1"))
    with pytest.raises(ConfigError, match=rf"stack name '{stack}'"):
        offline.evaluate(stack, config=offline.stack_config("dev"), monitor=monitor)
    assert [r.type for r in monitor.registrations.values()] == ["pulumi:pulumi:Stack"]
