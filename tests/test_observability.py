"""Alarms for the 99.9% promise (RNF-CF-01): each watches a registered resource, all notify."""

from __future__ import annotations

import json

import pytest

from reevo_infra import config, offline
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording, Registration
from tests import support

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC = "aws:sns/topic:Topic"


def alarms(rec: Recording, namespace: str) -> list[Registration]:
    return [a for a in rec.of_type(ALARM) if a.input("namespace") == namespace]


def topic_arn(rec: Recording) -> str:
    return str(rec.one(TOPIC).state["arn"])


def test_rnf_cf_01_database_alarms_watch_the_registered_instance(rec: Recording) -> None:
    db = rec.one("aws:rds/instance:Instance")
    found = alarms(rec, "AWS/RDS")
    metrics = {a.input("metricName") for a in found}
    assert metrics == {
        "CPUUtilization",
        "FreeStorageSpace",
        "FreeableMemory",
        "DatabaseConnections",
        "ReadLatency",
        "WriteLatency",
    }
    for alarm in found:
        assert alarm.input("dimensions") == {"DBInstanceIdentifier": db.input("identifier")}, (
            alarm.urn
        )


def test_rnf_cf_01_free_storage_threshold_follows_allocated_storage(rec: Recording) -> None:
    db = rec.one("aws:rds/instance:Instance")
    [alarm] = [a for a in alarms(rec, "AWS/RDS") if a.input("metricName") == "FreeStorageSpace"]
    allocated = db.input("allocatedStorage") * 1024**3
    assert 0 < alarm.input("threshold") < allocated, alarm.urn


def test_rnf_cf_01_every_cache_node_has_alarms(rec: Recording) -> None:
    group = rec.one("aws:elasticache/replicationGroup:ReplicationGroup")
    members = set(group.state["memberClusters"])
    found = alarms(rec, "AWS/ElastiCache")
    watched = {a.input("dimensions")["CacheClusterId"] for a in found}
    assert watched == members
    for node in members:
        metrics = {
            a.input("metricName") for a in found if a.input("dimensions")["CacheClusterId"] == node
        }
        assert {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "Evictions"} <= metrics


def test_rnf_cf_01_prod_cache_replicas_alarm_on_replication_lag(prod: Recording) -> None:
    lagging = [
        a for a in alarms(prod, "AWS/ElastiCache") if a.input("metricName") == "ReplicationLag"
    ]
    group = prod.one("aws:elasticache/replicationGroup:ReplicationGroup")
    assert len(lagging) == group.input("numCacheClusters") - 1


def test_rnf_cf_01_api_alarms_watch_the_registered_stage(rec: Recording) -> None:
    api = rec.one("aws:apigateway/restApi:RestApi")
    stage = rec.one("aws:apigateway/stage:Stage")
    expected = {"ApiName": api.state["name"], "Stage": stage.input("stageName")}
    found = alarms(rec, "AWS/ApiGateway")
    assert {a.input("metricName") for a in found} == {"5XXError", "Latency"}
    for alarm in found:
        assert alarm.input("dimensions") == expected, alarm.urn
    [latency] = [a for a in found if a.input("metricName") == "Latency"]
    assert latency.input("extendedStatistic") == "p99"


def test_rnf_cf_01_slo_burn_rate_over_a_short_and_a_long_window(rec: Recording) -> None:
    api = rec.one("aws:apigateway/restApi:RestApi")
    burns = [a for a in rec.of_type(ALARM) if a.input("metricQueries")]
    periods = set()
    for alarm in burns:
        queries = {q["id"]: q for q in alarm.input("metricQueries")}
        assert queries["errors"]["metric"]["metricName"] == "5XXError", alarm.urn
        assert queries["requests"]["metric"]["metricName"] == "Count", alarm.urn
        assert queries["errors"]["metric"]["dimensions"]["ApiName"] == api.state["name"]
        # 1 / (1 - 0.999): the burn rate is the error rate over the 0.1% budget.
        assert "/ 0.001000" in queries["burn"]["expression"], alarm.urn
        periods.add(queries["errors"]["metric"]["period"])
    assert {300, 3600} <= periods
    composites = rec.of_type(COMPOSITE)
    names = {a.state["name"] for a in burns}
    for composite in composites:
        rule = composite.input("alarmRule")
        assert sum(name in rule for name in names) == 2, composite.urn


def test_rnf_cf_01_load_balancer_and_nodes_have_alarms(rec: Recording) -> None:
    lb = rec.one("aws:lb/loadBalancer:LoadBalancer")
    tg = rec.one("aws:lb/targetGroup:TargetGroup")
    [unhealthy] = alarms(rec, "AWS/NetworkELB")
    assert unhealthy.input("dimensions") == {
        "LoadBalancer": lb.state["arnSuffix"],
        "TargetGroup": tg.state["arnSuffix"],
    }
    cluster = rec.one("aws:eks/cluster:Cluster")
    group = rec.one("aws:eks/nodeGroup:NodeGroup")
    node_alarms = {a.input("metricName"): a for a in alarms(rec, "ContainerInsights")}
    below = node_alarms["cluster_node_count"]
    assert below.input("dimensions") == {"ClusterName": cluster.input("name")}
    assert below.input("threshold") == group.input("scalingConfig.minSize")
    assert below.input("comparisonOperator") == "LessThanThreshold"
    assert "cluster_failed_node_count" in node_alarms


def test_rnf_cf_01_every_alarm_notifies_the_topic(rec: Recording) -> None:
    arn = topic_arn(rec)
    paging = [a for a in rec.of_type(ALARM) if not a.input("metricQueries")]
    paging += rec.of_type(COMPOSITE)
    assert len(paging) > 10
    for alarm in paging:
        assert alarm.input("alarmActions") == [arn], alarm.urn
        assert alarm.input("okActions") == [arn], alarm.urn


def test_rnf_s_01_alert_topic_is_encrypted_with_the_alerts_key(rec: Recording) -> None:
    topic = rec.one(TOPIC)
    key = support.key(rec, "alerts")
    assert topic.input("kmsMasterKeyId") == key.state["arn"]
    statements = json.loads(key.input("policy"))["Statement"]
    assert any(s["Principal"].get("Service") == "cloudwatch.amazonaws.com" for s in statements)


def test_alerts_reach_the_configured_email(rec: Recording) -> None:
    subs = rec.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subs and all(s.input("topic") == topic_arn(rec) for s in subs)
    assert all(s.input("protocol") == "email" and "@" in s.input("endpoint") for s in subs)


def test_dashboard_shows_the_golden_signals(rec: Recording) -> None:
    dashboard = rec.one("aws:cloudwatch/dashboard:Dashboard")
    titles = [
        w["properties"]["title"] for w in json.loads(dashboard.input("dashboardBody"))["widgets"]
    ]
    for signal in ("Traffic", "Errors", "Latency", "Saturation"):
        assert any(t.startswith(signal) for t in titles), signal


def test_rnf_s_04_container_metrics_logs_are_encrypted_and_bounded(rec: Recording) -> None:
    addon = rec.one("aws:eks/addon:Addon", f"reevo-{rec.stack}-obs-container-insights")
    assert addon.input("addonName") == "amazon-cloudwatch-observability"
    assert addon.input("addonVersion").endswith("-eksbuild.1")
    group = rec.one("aws:eks/nodeGroup:NodeGroup")
    assert group.urn in addon.dependencies, "the agents need nodes to run on"
    logs_key = support.key(rec, "logs").state["arn"]
    cluster = rec.one("aws:eks/cluster:Cluster").input("name")
    groups = [
        g
        for g in rec.of_type("aws:cloudwatch/logGroup:LogGroup")
        if str(g.input("name", "")).startswith(f"/aws/containerinsights/{cluster}/")
    ]
    assert len(groups) == 4
    for g in groups:
        assert g.input("kmsKeyId") == logs_key and g.input("retentionInDays") > 0, g.urn


def test_rnf_cf_01_prod_refuses_to_turn_alarms_off() -> None:
    raw = config.raw_from_flat(offline.stack_config("prod"))
    raw["alerts"] = {**raw["alerts"], "enabled": False}
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    assert err.value.problems == ["reevo:alerts.enabled: prod alarms must be on (RNF-CF-01)"]


def test_dev_may_quiet_its_alarms() -> None:
    rec = offline.evaluate("dev", overrides={"reevo:alerts": {"enabled": False}})
    assert rec.of_type(ALARM) == [] and rec.of_type(COMPOSITE) == []
    assert rec.of_type(TOPIC), "the topic stays, so alarms can be turned back on"
