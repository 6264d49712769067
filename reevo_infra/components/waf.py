"""The gateway's shield: a regional WAF web ACL against injection, bad inputs and floods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reevo_infra.naming import child_name, tags

MANAGED_RULE_GROUPS = (
    # After the rate rule, cheapest first: known-bad addresses go before deep inspection.
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
"""AWS managed groups: 25 + 700 + 200 + 200 WCUs, with the rate rule well under the 1,500
WCUs a web ACL gets at the base price."""

REDACTED_HEADERS = ("authorization", "cookie")
"""Never written to WAF logs (RNF-S-04); WAF wants header names in lower case."""


@dataclass(frozen=True)
class WafArgs:
    """Inputs of the `Waf` component."""

    resource_arn: pulumi.Input[str]
    """What the web ACL protects: the API Gateway stage ARN."""
    rate_limit: int
    """Requests one client IP may make in 5 minutes before WAF blocks it."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    tags: Mapping[str, str]


class Waf(pulumi.ComponentResource):
    """A REGIONAL WAFv2 web ACL on the API stage: AWS managed rules for IP reputation, common
    exploits, known bad inputs and SQL injection, and a per-IP rate limit (RF-CAD-002).

    Every request WAF sees is logged to a log group encrypted with the logs key, with the
    Authorization and Cookie headers redacted.
    """

    web_acl_arn: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: WafArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:edge:Waf", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        rules = [self._rate_rule(name, args.rate_limit, priority=0)]
        rules += [
            self._managed_rule(name, group, priority)
            for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        acl = aws.wafv2.WebAcl(
            name,
            scope="REGIONAL",
            description="Reevo API: managed rules and a per-IP rate limit",
            default_action=aws.wafv2.WebAclDefaultActionArgs(
                allow=aws.wafv2.WebAclDefaultActionAllowArgs(),
            ),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name=name,
                sampled_requests_enabled=True,
            ),
            tags=tags(args.tags, name),
            opts=child,
        )

        aws.wafv2.WebAclAssociation(
            child_name(name, "stage"),
            resource_arn=args.resource_arn,
            web_acl_arn=acl.arn,
            opts=child,
        )

        log_name = child_name(name, "logs")
        log_group = aws.cloudwatch.LogGroup(
            log_name,
            # WAF only logs to destinations whose name starts with this prefix.
            name=f"aws-waf-logs-{name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=tags(args.tags, log_name),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            log_name,
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(
                        name=header,
                    ),
                )
                for header in REDACTED_HEADERS
            ],
            opts=child,
        )

        self.web_acl_arn = acl.arn
        self.log_group_arn = log_group.arn
        self.register_outputs(
            {
                "web_acl_arn": self.web_acl_arn,
                "log_group_arn": self.log_group_arn,
            }
        )

    @staticmethod
    def _managed_rule(name: str, group: str, priority: int) -> aws.wafv2.WebAclRuleArgs:
        return aws.wafv2.WebAclRuleArgs(
            name=group,
            priority=priority,
            # `none` keeps each managed rule's own action (block); `count` would only watch.
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                none=aws.wafv2.WebAclRuleOverrideActionNoneArgs(),
            ),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=(
                    aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        vendor_name="AWS",
                        name=group,
                    )
                ),
            ),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name=f"{name}-{group}",
                sampled_requests_enabled=True,
            ),
        )

    @staticmethod
    def _rate_rule(name: str, limit: int, priority: int) -> aws.wafv2.WebAclRuleArgs:
        return aws.wafv2.WebAclRuleArgs(
            name="rate-per-ip",
            priority=priority,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=limit,
                    aggregate_key_type="IP",
                    evaluation_window_sec=300,
                ),
            ),
            visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True,
                metric_name=f"{name}-rate-per-ip",
                sampled_requests_enabled=True,
            ),
        )
