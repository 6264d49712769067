"""The only way in: a regional REST API that authenticates every request with Cognito."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from reevo_infra import iam
from reevo_infra.naming import child_name, tags

AUTHORIZATION = "COGNITO_USER_POOLS"

# JSON access log line. Source IP and time are what Marco Civil asks access logs to keep;
# the caller is the Cognito `sub` (a pseudonymous id), never a token or a body (LGPD).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "user": "$context.authorizer.claims.sub",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "wafStatus": "$context.waf.status",
        "error": "$context.error.message",
        "tlsVersion": "$context.tlsVersion",
    },
    separators=(",", ":"),
)


def redeploy_hash(definitions: Any) -> str:
    """A stable digest of the API's definitions; any change to them gives a new digest."""
    text = json.dumps(definitions, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class GatewayArgs:
    """Inputs of the `Gateway` component."""

    services: Sequence[str]
    """One `/{service}` and `/{service}/{proxy+}` route pair each, forwarded unchanged."""
    load_balancer_arn: pulumi.Input[str]
    """The internal NLB the VPC link targets."""
    load_balancer_dns_name: pulumi.Input[str]
    user_pool_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    stage_name: str
    partition: str
    throttle_rate: float
    """Steady-state requests per second for the whole stage."""
    throttle_burst: int
    tags: Mapping[str, str]
    logging_level: Literal["ERROR", "INFO"] = "ERROR"
    """Execution logging; ERROR keeps failures without logging every request twice."""
    domain_name: str | None = None
    """Custom domain (needs `certificate_arn`); none: only the execute-api endpoint."""
    certificate_arn: str | None = None
    """ACM certificate in the stack's region, for `domain_name`."""


class Gateway(pulumi.ComponentResource):
    """A regional REST API with a Cognito authorizer on every method, forwarding each
    service's routes through a VPC link to the internal NLB, deployed to one stage.

    The stage logs access in JSON to a log group encrypted with the logs key, traces with
    X-Ray, throttles, and never logs request or response data. TLS 1.2 is the minimum on
    the execute-api endpoint and on the optional custom domain.
    """

    rest_api_id: pulumi.Output[str]
    stage_arn: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    access_log_group_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if (args.domain_name is None) != (args.certificate_arn is None):
            raise ValueError("a custom domain needs both domain_name and certificate_arn")
        if not args.services:
            raise ValueError("the API needs at least one service to route to")
        super().__init__("reevo:edge:Gateway", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        api = aws.apigateway.RestApi(
            name,
            description="Reevo platform API: every method needs a Cognito user",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(
                types="REGIONAL",
            ),
            # The default for a regional API is TLS_1_0 (RNF-S-04 asks for 1.2 or later).
            security_policy="TLS_1_2",
            tags=tags(args.tags, name),
            opts=child,
        )

        # VPC link v1 targets an NLB, which the ingress tier already is; REST APIs can now
        # also use a v2 link to an ALB, but that would add an ALB in front of the same
        # NodePort for no gain at the edge.
        link = aws.apigateway.VpcLink(
            child_name(name, "link"),
            target_arn=args.load_balancer_arn,
            description="API Gateway to the internal ingress NLB",
            tags=tags(args.tags, child_name(name, "link")),
            opts=child,
        )

        authorizer_spec: dict[str, Any] = {
            "rest_api": api.id,
            "type": AUTHORIZATION,
            "provider_arns": [args.user_pool_arn],
            "identity_source": "method.request.header.Authorization",
            "authorizer_result_ttl_in_seconds": 300,
        }
        authorizer = aws.apigateway.Authorizer(
            child_name(name, "cognito"),
            **authorizer_spec,
            opts=child,
        )

        definitions: list[Mapping[str, Any]] = [{"authorizer": authorizer_spec}]
        route_resources: list[pulumi.Resource] = []
        for service in args.services:
            specs, created = self._service_routes(service, api, link, authorizer)
            definitions += specs
            route_resources += created

        # Triggers force a replacement; Pulumi creates the new deployment, moves the stage
        # to it and only then deletes the old one, so the API never serves nothing.
        deployment = aws.apigateway.Deployment(
            child_name(name, "deployment"),
            rest_api=api.id,
            description="Managed by Pulumi: replaced whenever a route changes",
            triggers={"redeployment": pulumi.Output.from_input(definitions).apply(redeploy_hash)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=route_resources),
        )

        account = self._account()
        access_logs = self._log_group("access", None)
        # API Gateway writes execution logs to this fixed name, creating it unencrypted
        # and kept forever unless it already exists.
        execution_logs = self._log_group(
            "execution",
            api.id.apply(lambda api_id: f"API-Gateway-Execution-Logs_{api_id}/{args.stage_name}"),
        )

        stage = aws.apigateway.Stage(
            child_name(name, args.stage_name),
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=args.stage_name,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn,
                format=ACCESS_LOG_FORMAT,
            ),
            tags=tags(args.tags, child_name(name, args.stage_name)),
            # Logging settings fail until the account has its CloudWatch role.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account, execution_logs]),
        )

        aws.apigateway.MethodSettings(
            child_name(name, args.stage_name, "all"),
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                logging_level=args.logging_level,
                # Full request/response logging would write bodies and headers (LGPD).
                data_trace_enabled=False,
                throttling_rate_limit=args.throttle_rate,
                throttling_burst_limit=args.throttle_burst,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )

        if args.domain_name is not None:
            self._custom_domain(api, stage)

        self.rest_api_id = api.id
        self.api_name = api.name
        self.stage_name = stage.stage_name
        self.stage_arn = stage.arn
        self.invoke_url = stage.invoke_url
        self.access_log_group_arn = access_logs.arn
        self.register_outputs(
            {
                "rest_api_id": self.rest_api_id,
                "api_name": self.api_name,
                "stage_name": self.stage_name,
                "stage_arn": self.stage_arn,
                "invoke_url": self.invoke_url,
                "access_log_group_arn": self.access_log_group_arn,
            }
        )

    def _service_routes(
        self,
        service: str,
        api: aws.apigateway.RestApi,
        link: aws.apigateway.VpcLink,
        authorizer: aws.apigateway.Authorizer,
    ) -> tuple[list[Mapping[str, Any]], list[pulumi.Resource]]:
        """`/{service}` and `/{service}/{proxy+}`, each ANY through the link to the NLB."""
        child = pulumi.ResourceOptions(parent=self)
        dns = self._args.load_balancer_dns_name
        specs: list[Mapping[str, Any]] = []
        created: list[pulumi.Resource] = []
        parent_id: pulumi.Input[str] = api.root_resource_id
        for role, part in (("base", service), ("proxy", "{proxy+}")):
            route = child_name(self._name, service, role)
            proxied = role == "proxy"
            # Arguments are kept as dicts so the same values feed the deployment hash.
            resource_spec: dict[str, Any] = {
                "rest_api": api.id,
                "parent_id": parent_id,
                "path_part": part,
            }
            resource = aws.apigateway.Resource(route, **resource_spec, opts=child)
            method_spec: dict[str, Any] = {
                "rest_api": api.id,
                "resource_id": resource.id,
                "http_method": "ANY",
                "authorization": AUTHORIZATION,
                "authorizer_id": authorizer.id,
                "request_parameters": {"method.request.path.proxy": True} if proxied else None,
            }
            method = aws.apigateway.Method(route, **method_spec, opts=child)
            path = f"/{service}/{{proxy}}" if proxied else f"/{service}"
            integration_spec: dict[str, Any] = {
                "rest_api": api.id,
                "resource_id": resource.id,
                "http_method": method.http_method,
                "type": "HTTP_PROXY",
                "integration_http_method": "ANY",
                "connection_type": "VPC_LINK",
                "connection_id": link.id,
                "uri": pulumi.Output.concat("http://", dns, path),
                "request_parameters": (
                    {"integration.request.path.proxy": "method.request.path.proxy"}
                    if proxied
                    else None
                ),
            }
            integration = aws.apigateway.Integration(route, **integration_spec, opts=child)
            specs += [
                {"resource": resource_spec},
                {"method": method_spec},
                {"integration": integration_spec},
            ]
            created += [resource, method, integration]
            parent_id = resource.id
        return specs, created

    def _account(self) -> aws.apigateway.Account:
        """The region's API Gateway settings: the role it uses to write to CloudWatch."""
        role_name = child_name(self._name, "cloudwatch")
        role = aws.iam.Role(
            role_name,
            assume_role_policy=iam.service_trust("apigateway.amazonaws.com"),
            tags=tags(self._args.tags, role_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = aws.iam.RolePolicyAttachment(
            role_name,
            role=role.name,
            policy_arn=f"arn:{self._args.partition}:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # API Gateway checks the role can write logs when the setting is saved.
        return aws.apigateway.Account(
            child_name(self._name, "account"),
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    def _log_group(
        self, role: str, physical_name: pulumi.Input[str] | None
    ) -> aws.cloudwatch.LogGroup:
        log_name = child_name(self._name, role, "logs")
        return aws.cloudwatch.LogGroup(
            log_name,
            name=physical_name,
            retention_in_days=self._args.log_retention_days,
            kms_key_id=self._args.logs_key_arn,
            tags=tags(self._args.tags, log_name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _custom_domain(self, api: aws.apigateway.RestApi, stage: aws.apigateway.Stage) -> None:
        domain_name = child_name(self._name, "domain")
        domain = aws.apigateway.DomainName(
            domain_name,
            domain_name=self._args.domain_name,
            regional_certificate_arn=self._args.certificate_arn,
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(
                types="REGIONAL",
            ),
            security_policy="TLS_1_2",
            tags=tags(self._args.tags, domain_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.apigateway.BasePathMapping(
            child_name(self._name, "domain", "mapping"),
            rest_api=api.id,
            stage_name=stage.stage_name,
            domain_name=domain.domain_name,
            opts=pulumi.ResourceOptions(parent=self),
        )
