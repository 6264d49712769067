"""Alarms, the alert topic, the golden-signals dashboard and container metrics (RNF-CF-01)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws.cloudwatch import MetricAlarm

from reevo_infra import alarms, eks
from reevo_infra.alarms import Thresholds, Watch
from reevo_infra.naming import child_name, tags

CLOUDWATCH_ADDON_VERSION = "v4.5.0-eksbuild.1"
CONTAINER_LOG_GROUPS = ("application", "dataplane", "host", "performance")


@dataclass(frozen=True)
class Watched:
    """The registered resources the alarms watch, by the identifiers CloudWatch uses."""

    db_instance_id: pulumi.Input[str]
    db_allocated_storage_gib: int
    cache_member_ids: Sequence[pulumi.Input[str]]
    """Node ids of the replication group; the first is the primary at creation."""
    api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    node_min_size: int


@dataclass(frozen=True)
class ObservabilityArgs:
    """Inputs of the `Observability` component."""

    watched: Watched
    thresholds: Thresholds
    alerts_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    emails: Sequence[str]
    alarms_enabled: bool
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL, with or without the https:// scheme."""
    region: str
    partition: str
    tags: Mapping[str, str]
    addon_after: Sequence[pulumi.Resource] = ()
    """Resources the metrics addon waits for (the node group: its agents need nodes)."""


class Observability(pulumi.ComponentResource):
    """An encrypted SNS topic, CloudWatch alarms routed to it, a dashboard, container metrics.

    Alarms cover the database, the cache, the API stage (5XX rate, p99 latency and an
    error-budget burn rate for the 99.9% SLO over a short and a long window), the internal
    load balancer's targets and the cluster's nodes. Container Insights' log groups are
    created here first, encrypted and with a bounded retention, so the addon never makes
    unencrypted never-expiring ones.
    """

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:observability:Observability", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        topic = aws.sns.Topic(
            child_name(name, "alerts"),
            kms_master_key_id=args.alerts_key_arn,
            tags=tags(args.tags, child_name(name, "alerts")),
            opts=child,
        )
        for i, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                child_name(name, "alerts", "email", i),
                topic=topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )
        self.topic_arn = topic.arn
        self._actions = [topic.arn]

        made: list[MetricAlarm] = []
        if args.alarms_enabled:
            made = self._metric_alarms()
            self._slo_alarms()

        self._container_metrics()

        dashboard = aws.cloudwatch.Dashboard(
            child_name(name, "golden-signals"),
            dashboard_name=f"{name}-golden-signals",
            dashboard_body=self._dashboard_body(),
            opts=child,
        )

        self.alarm_arns = [a.arn for a in made]
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "alarm_arns": self.alarm_arns,
                "dashboard_name": self.dashboard_name,
            }
        )

    def _alarm(self, watch: Watch, dimensions: Mapping[str, pulumi.Input[str]]) -> MetricAlarm:
        alarm_name = child_name(self._name, watch.suffix)
        return aws.cloudwatch.MetricAlarm(
            alarm_name,
            alarm_description=watch.description,
            namespace=watch.namespace,
            metric_name=watch.metric,
            dimensions=dict(dimensions),
            statistic=None if watch.extended else watch.statistic,
            extended_statistic=watch.extended,
            period=300,
            evaluation_periods=watch.periods,
            datapoints_to_alarm=watch.periods,
            threshold=watch.threshold,
            comparison_operator="LessThanThreshold" if watch.below else "GreaterThanThreshold",
            treat_missing_data=watch.missing,
            alarm_actions=self._actions,
            ok_actions=self._actions,
            tags=tags(self._args.tags, alarm_name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _metric_alarms(self) -> list[MetricAlarm]:
        t, w = self._args.thresholds, self._args.watched
        made = [
            self._alarm(watch, {"DBInstanceIdentifier": w.db_instance_id})
            for watch in alarms.database(t, w.db_allocated_storage_gib)
        ]
        for i, node in enumerate(w.cache_member_ids):
            made += [self._alarm(x, {"CacheClusterId": node}) for x in alarms.cache_node(t, i)]
        made += [self._alarm(watch, self._api_dims()) for watch in alarms.api(t)]
        targets = {
            "LoadBalancer": w.load_balancer_arn_suffix,
            "TargetGroup": w.target_group_arn_suffix,
        }
        made.append(self._alarm(alarms.UNHEALTHY_TARGETS, targets))
        made += [
            self._alarm(watch, {"ClusterName": w.cluster_name})
            for watch in alarms.nodes(w.node_min_size)
        ]
        return made

    def _api_dims(self) -> dict[str, pulumi.Input[str]]:
        w = self._args.watched
        return {"ApiName": w.api_name, "Stage": w.stage_name}

    def _burn_alarm(self, window: str, period: int, threshold: float) -> MetricAlarm:
        budget = 1 - self._args.thresholds.slo_target_percent / 100
        alarm_name = child_name(self._name, "slo-burn", window)

        def query(qid: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=qid,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApiGateway",
                    metric_name=metric,
                    period=period,
                    stat="Sum",
                    dimensions=self._api_dims(),
                ),
            )

        return aws.cloudwatch.MetricAlarm(
            alarm_name,
            alarm_description=f"Error budget burning {threshold}x too fast over {window}",
            metric_queries=[
                query("errors", "5XXError"),
                query("requests", "Count"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="burn",
                    expression=f"IF(requests > 0, errors / requests, 0) / {budget:.6f}",
                    label=f"burn rate {window}",
                    return_data=True,
                ),
            ],
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            tags=tags(self._args.tags, alarm_name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _slo_alarms(self) -> None:
        # Multiwindow burn-rate alerting: the long window proves the burn is real, the short
        # one that it is still happening. 14.4x spends 2% of a 30-day budget in an hour;
        # 6x spends 5% in six hours.
        for severity, long_w, short_w, rate in (
            ("fast", ("1h", 3600), ("5m", 300), 14.4),
            ("slow", ("6h", 21600), ("30m", 1800), 6.0),
        ):
            long_alarm = self._burn_alarm(long_w[0], long_w[1], rate)
            short_alarm = self._burn_alarm(short_w[0], short_w[1], rate)
            composite = child_name(self._name, "slo", severity)
            aws.cloudwatch.CompositeAlarm(
                composite,
                alarm_name=f"{composite}-burn",
                alarm_description=f"99.9% availability SLO: {severity} error-budget burn",
                alarm_rule=pulumi.Output.format(
                    'ALARM("{0}") AND ALARM("{1}")', long_alarm.name, short_alarm.name
                ),
                alarm_actions=self._actions,
                ok_actions=self._actions,
                tags=tags(self._args.tags, composite),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _container_metrics(self) -> None:
        a = self._args
        child = pulumi.ResourceOptions(parent=self)
        log_groups = []
        for group in CONTAINER_LOG_GROUPS:
            log_name = child_name(self._name, "containerinsights", group)
            log_group = aws.cloudwatch.LogGroup(
                log_name,
                name=pulumi.Output.concat(
                    "/aws/containerinsights/", a.watched.cluster_name, "/", group
                ),
                retention_in_days=a.log_retention_days,
                kms_key_id=a.logs_key_arn,
                tags=tags(a.tags, log_name),
                opts=child,
            )
            log_groups.append(log_group)

        role_name = child_name(self._name, "cloudwatch-agent")
        trust = pulumi.Output.all(a.oidc_provider_arn, a.oidc_issuer).apply(
            lambda v: eks.irsa_trust_policy(v[0], v[1], "amazon-cloudwatch", "cloudwatch-agent")
        )
        role = aws.iam.Role(
            role_name, assume_role_policy=trust, tags=tags(a.tags, role_name), opts=child
        )
        for policy in ("CloudWatchAgentServerPolicy", "AWSXrayWriteOnlyAccess"):
            aws.iam.RolePolicyAttachment(
                child_name(role_name, policy.lower()),
                role=role.name,
                policy_arn=f"arn:{a.partition}:iam::aws:policy/{policy}",
                opts=child,
            )
        aws.eks.Addon(
            child_name(self._name, "container-insights"),
            cluster_name=a.watched.cluster_name,
            addon_name="amazon-cloudwatch-observability",
            addon_version=CLOUDWATCH_ADDON_VERSION,
            service_account_role_arn=role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags(a.tags, child_name(self._name, "container-insights")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*a.addon_after, *log_groups]),
        )

    def _dashboard_body(self) -> pulumi.Output[str]:
        w = self._args.watched

        def body(v: list[Any]) -> str:
            db, api, stage, lb, tg, cluster, *nodes = (str(x) for x in v)
            return alarms.Dashboard(
                region=self._args.region,
                db_instance_id=db,
                api_name=api,
                stage_name=stage,
                load_balancer=lb,
                target_group=tg,
                cluster_name=cluster,
                cache_nodes=tuple(nodes),
            ).body()

        return pulumi.Output.all(
            w.db_instance_id,
            w.api_name,
            w.stage_name,
            w.load_balancer_arn_suffix,
            w.target_group_arn_suffix,
            w.cluster_name,
            *w.cache_member_ids,
        ).apply(body)
