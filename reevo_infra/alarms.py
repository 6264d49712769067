"""What the alarms watch and when they fire, and the golden-signals dashboard (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Alarm thresholds; defaults live in the config model (`reevo:alerts`)."""

    rds_cpu_percent: float
    rds_free_storage_percent: float
    rds_freeable_memory_mib: float
    rds_max_connections: float
    rds_latency_seconds: float
    cache_cpu_percent: float
    cache_memory_percent: float
    cache_evictions: float
    cache_replication_lag_seconds: float
    api_5xx_percent: float
    api_p99_latency_ms: float
    slo_target_percent: float


@dataclass(frozen=True)
class Watch:
    """One metric alarm: what it watches, when it fires, and what it says."""

    suffix: str
    namespace: str
    metric: str
    threshold: float
    description: str
    statistic: str = "Average"
    extended: str | None = None
    """A percentile such as p99, used instead of `statistic`."""
    below: bool = False
    """Fire below the threshold rather than above it."""
    periods: int = 3
    """Consecutive 5-minute periods that must breach."""
    missing: str = "missing"


RDS = "AWS/RDS"
CACHE = "AWS/ElastiCache"
API = "AWS/ApiGateway"
NLB = "AWS/NetworkELB"
NODES = "ContainerInsights"


def database(t: Thresholds, allocated_gib: int) -> list[Watch]:
    free_bytes = allocated_gib * 1024**3 * t.rds_free_storage_percent / 100
    memory_bytes = t.rds_freeable_memory_mib * 2**20
    return [
        Watch("rds-cpu", RDS, "CPUUtilization", t.rds_cpu_percent, "PostgreSQL CPU is high"),
        Watch("rds-free-storage", RDS, "FreeStorageSpace", free_bytes,
              "PostgreSQL is running out of storage", below=True),
        Watch("rds-freeable-memory", RDS, "FreeableMemory", memory_bytes,
              "PostgreSQL is short of memory", below=True),
        Watch("rds-connections", RDS, "DatabaseConnections", t.rds_max_connections,
              "PostgreSQL connections near the limit"),
        Watch("rds-read-latency", RDS, "ReadLatency", t.rds_latency_seconds,
              "PostgreSQL reads are slow"),
        Watch("rds-write-latency", RDS, "WriteLatency", t.rds_latency_seconds,
              "PostgreSQL writes are slow"),
    ]  # fmt: skip


def cache_node(t: Thresholds, index: int) -> list[Watch]:
    """Alarms for the cache node at `index`; index 0 is the primary at creation."""
    watches = [
        Watch(f"cache-{index}-cpu", CACHE, "EngineCPUUtilization", t.cache_cpu_percent,
              "Cache engine CPU is high"),
        Watch(f"cache-{index}-memory", CACHE, "DatabaseMemoryUsagePercentage",
              t.cache_memory_percent, "Cache memory is nearly full"),
        Watch(f"cache-{index}-evictions", CACHE, "Evictions", t.cache_evictions,
              "Cache is evicting marketplace keys", statistic="Sum"),
    ]  # fmt: skip
    if index > 0:
        # Only replicas report ReplicationLag.
        lag = t.cache_replication_lag_seconds
        watches.append(Watch(f"cache-{index}-replication-lag", CACHE, "ReplicationLag", lag,
                             "Cache replica is lagging"))  # fmt: skip
    return watches


def api(t: Thresholds) -> list[Watch]:
    return [
        # 5XXError's Average over a period is the fraction of requests that failed.
        Watch("api-5xx-rate", API, "5XXError", t.api_5xx_percent / 100,
              "API 5XX rate is high", missing="notBreaching"),
        Watch("api-p99-latency", API, "Latency", t.api_p99_latency_ms,
              "API p99 latency is high", extended="p99", missing="notBreaching"),
    ]  # fmt: skip


UNHEALTHY_TARGETS = Watch(
    "nlb-unhealthy-targets", NLB, "UnHealthyHostCount", 0,
    "Nodes behind the internal load balancer are unhealthy", statistic="Maximum", periods=2,
)  # fmt: skip


def nodes(min_size: int) -> list[Watch]:
    return [
        # No data means the agents or the nodes are gone, which is itself an outage.
        Watch("nodes-below-minimum", NODES, "cluster_node_count", min_size,
              "Fewer nodes than the node group's minimum", statistic="Minimum", below=True,
              periods=2, missing="breaching"),
        Watch("nodes-failed", NODES, "cluster_failed_node_count", 0,
              "A node is failing its health checks", statistic="Maximum", periods=2),
    ]  # fmt: skip


@dataclass(frozen=True)
class Dashboard:
    """The identifiers the golden-signals dashboard plots, as CloudWatch names them."""

    region: str
    db_instance_id: str
    api_name: str
    stage_name: str
    load_balancer: str
    target_group: str
    cluster_name: str
    cache_nodes: tuple[str, ...]

    def body(self) -> str:
        api_dims = ["ApiName", self.api_name, "Stage", self.stage_name]
        db = ["DBInstanceIdentifier", self.db_instance_id]
        widgets = [
            self._widget("Traffic: API requests", [[API, "Count", *api_dims]], "Sum"),
            self._widget("Errors: API 4XX and 5XX", [
                [API, "5XXError", *api_dims], [API, "4XXError", *api_dims]], "Sum"),
            self._widget("Latency: API p50 / p99", [
                [API, "Latency", *api_dims, {"stat": "p50"}],
                [API, "Latency", *api_dims, {"stat": "p99"}]]),
            self._widget("Saturation: database", [
                [RDS, "CPUUtilization", *db], [RDS, "DatabaseConnections", *db]]),
            self._widget("Saturation: cache", [
                [CACHE, "EngineCPUUtilization", "CacheClusterId", n] for n in self.cache_nodes]),
            self._widget("Health: nodes and targets", [
                [NODES, "cluster_node_count", "ClusterName", self.cluster_name],
                [NLB, "UnHealthyHostCount", "LoadBalancer", self.load_balancer,
                 "TargetGroup", self.target_group]], "Maximum"),
        ]  # fmt: skip
        return json.dumps({"widgets": widgets}, sort_keys=True)

    def _widget(self, title: str, metrics: list[list[Any]], stat: str = "Average") -> dict:
        properties = {"title": title, "region": self.region, "stat": stat, "period": 60,
                      "metrics": metrics}  # fmt: skip
        return {"type": "metric", "width": 12, "height": 6, "properties": properties}
