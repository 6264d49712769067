"""The edge: Cognito identity, the REST API, its stage and its WAF (RF-CAD-002, RNF-S-04)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reevo_infra import config, offline
from reevo_infra.components.gateway import redeploy_hash
from reevo_infra.config import LOG_RETENTION_DAYS, ConfigError
from reevo_infra.offline import Recording, Registration
from tests import support

API = "aws:apigateway/restApi:RestApi"
RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
AUTHORIZER = "aws:apigateway/authorizer:Authorizer"
VPC_LINK = "aws:apigateway/vpcLink:VpcLink"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
ACCOUNT = "aws:apigateway/account:Account"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
NLB = "aws:lb/loadBalancer:LoadBalancer"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
USER_POOL = "aws:cognito/userPool:UserPool"
POOL_CLIENT = "aws:cognito/userPoolClient:UserPoolClient"
USER_GROUP = "aws:cognito/userGroup:UserGroup"

MANAGED_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}


def _logs_key_arn(rec: Recording) -> str:
    return str(support.key(rec, "logs").state["arn"])


def _log_group_by_arn(rec: Recording, arn: str) -> Registration:
    found = [g for g in rec.of_type(LOG_GROUP) if g.state.get("arn") == arn]
    assert len(found) == 1, f"no log group with ARN {arn}"
    return found[0]


def _assert_encrypted_and_retained(rec: Recording, group: Registration) -> None:
    assert group.input("kmsKeyId") == _logs_key_arn(rec), f"{group.urn}: not the logs key"
    days = group.input("retentionInDays")
    assert days in LOG_RETENTION_DAYS, f"{group.urn}: retention {days!r} is not bounded"
    if rec.stack == "prod":
        assert days >= 180, f"{group.urn}: prod keeps access logs >= 180 days, not {days}"


def test_rf_cad_002_every_method_uses_the_cognito_authorizer(rec: Recording) -> None:
    authorizer = rec.one(AUTHORIZER)
    pool = rec.one(USER_POOL)
    assert authorizer.input("type") == "COGNITO_USER_POOLS", authorizer.urn
    assert authorizer.input("providerArns") == [pool.state["arn"]], authorizer.urn
    methods = rec.of_type(METHOD)
    assert methods, "the API registers no method"
    for method in methods:
        assert method.input("authorization") == "COGNITO_USER_POOLS", method.urn
        assert method.input("authorization") != "NONE", method.urn
        assert rec.by_id(AUTHORIZER, method.input("authorizerId")) is authorizer, method.urn


def test_rf_cad_002_every_resource_has_an_authorized_method(rec: Recording) -> None:
    resources = rec.of_type(RESOURCE)
    method_targets = {m.input("resourceId") for m in rec.of_type(METHOD)}
    parts = {r.input("pathPart") for r in resources}
    assert "{proxy+}" in parts, "no greedy proxy route"
    for resource in resources:
        assert resource.id in method_targets, f"{resource.urn}: no method"


def test_rf_cad_002_integrations_reach_the_internal_nlb_through_the_vpc_link(
    rec: Recording,
) -> None:
    nlb = rec.one(NLB)
    link = rec.one(VPC_LINK)
    assert nlb.input("internal") is True, f"{nlb.urn}: the gateway's target must be internal"
    assert link.input("targetArn") == nlb.state["arn"], link.urn
    integrations = rec.of_type(INTEGRATION)
    assert len(integrations) == len(rec.of_type(METHOD)), "a method has no integration"
    for integration in integrations:
        assert integration.input("type") == "HTTP_PROXY", integration.urn
        assert integration.input("connectionType") == "VPC_LINK", integration.urn
        assert rec.by_id(VPC_LINK, integration.input("connectionId")) is link, integration.urn
        uri = integration.input("uri")
        assert uri.startswith(f"http://{nlb.state['dnsName']}/"), f"{integration.urn}: {uri}"
        if uri.endswith("/{proxy}"):
            assert integration.input("requestParameters") == {
                "integration.request.path.proxy": "method.request.path.proxy"
            }, integration.urn


def test_rf_cad_002_waf_has_managed_rules_and_a_rate_limit(rec: Recording) -> None:
    acl = rec.one(WEB_ACL)
    assert acl.input("scope") == "REGIONAL", acl.urn
    rules = acl.input("rules")
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert managed >= MANAGED_GROUPS, f"{acl.urn}: missing {MANAGED_GROUPS - managed}"
    for rule in rules:
        if "managedRuleGroupStatement" in rule["statement"]:
            assert "none" in rule["overrideAction"], f"{acl.urn}: {rule['name']} only counts"
    rate = [r for r in rules if "rateBasedStatement" in r["statement"]]
    assert len(rate) == 1, f"{acl.urn}: expected one rate-based rule"
    assert rate[0]["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP", acl.urn
    assert rate[0]["statement"]["rateBasedStatement"]["limit"] >= 10, acl.urn
    assert "block" in rate[0]["action"], acl.urn


def test_rf_cad_002_waf_is_associated_with_the_stage(rec: Recording) -> None:
    stage = rec.one(STAGE)
    association = rec.one(WAF_ASSOCIATION)
    assert association.input("webAclArn") == rec.one(WEB_ACL).state["arn"], association.urn
    assert association.input("resourceArn") == stage.state["arn"], association.urn
    assert stage.state["arn"].startswith("arn:aws:apigateway:"), stage.urn
    assert "/stages/" in stage.state["arn"], stage.urn


def test_rnf_s_04_access_logs_are_json_encrypted_and_retained(rec: Recording) -> None:
    stage = rec.one(STAGE)
    settings = stage.input("accessLogSettings")
    assert settings, f"{stage.urn}: no access logs"
    fields = json.loads(settings["format"])
    assert {"requestId", "ip", "requestTime", "status"} <= fields.keys(), stage.urn
    assert "authorization" not in settings["format"].lower(), stage.urn
    _assert_encrypted_and_retained(rec, _log_group_by_arn(rec, settings["destinationArn"]))


def test_rnf_s_04_execution_logs_are_encrypted_and_retained(rec: Recording) -> None:
    api_id = rec.one(API).id
    stage_name = rec.one(STAGE).input("stageName")
    name = f"API-Gateway-Execution-Logs_{api_id}/{stage_name}"
    groups = [g for g in rec.of_type(LOG_GROUP) if g.input("name") == name]
    assert len(groups) == 1, f"API Gateway would create {name} unencrypted"
    _assert_encrypted_and_retained(rec, groups[0])


def test_rnf_s_04_waf_logs_are_encrypted_retained_and_redacted(rec: Recording) -> None:
    logging = rec.one(WAF_LOGGING)
    assert logging.input("resourceArn") == rec.one(WEB_ACL).state["arn"], logging.urn
    (destination,) = logging.input("logDestinationConfigs")
    group = _log_group_by_arn(rec, destination)
    assert group.input("name").startswith("aws-waf-logs-"), group.urn
    _assert_encrypted_and_retained(rec, group)
    redacted = {
        f["singleHeader"]["name"] for f in logging.input("redactedFields") if "singleHeader" in f
    }
    assert "authorization" in redacted, f"{logging.urn}: Authorization header is logged"


def test_rnf_s_04_no_request_data_is_logged(rec: Recording) -> None:
    settings = rec.one(METHOD_SETTINGS)
    assert settings.input("methodPath") == "*/*", settings.urn
    assert settings.input("settings.dataTraceEnabled") is False, settings.urn
    assert settings.input("settings.loggingLevel") in ("ERROR", "INFO"), settings.urn
    assert settings.input("settings.metricsEnabled") is True, settings.urn


def test_rnf_s_04_api_and_domain_accept_only_tls_1_2_or_later(
    rec: Recording, with_domain: Recording
) -> None:
    api = rec.one(API)
    assert api.input("endpointConfiguration.types") == "REGIONAL", api.urn
    assert api.input("securityPolicy") == "TLS_1_2", api.urn
    domain = with_domain.one("aws:apigateway/domainName:DomainName")
    assert domain.input("securityPolicy") == "TLS_1_2", domain.urn
    mapping = with_domain.one("aws:apigateway/basePathMapping:BasePathMapping")
    assert mapping.input("domainName") == domain.input("domainName"), mapping.urn
    assert mapping.input("stageName") == with_domain.one(STAGE).input("stageName"), mapping.urn


def test_rnf_ed_01_stage_throttles(rec: Recording) -> None:
    settings = rec.one(METHOD_SETTINGS)
    assert settings.input("stageName") == rec.one(STAGE).input("stageName"), settings.urn
    assert settings.input("settings.throttlingRateLimit") > 0, settings.urn
    assert settings.input("settings.throttlingBurstLimit") > 0, settings.urn


def test_one_traced_stage_can_log_through_the_account_role(rec: Recording) -> None:
    stage = rec.one(STAGE)
    assert stage.input("xrayTracingEnabled") is True, stage.urn
    deployment = rec.one(DEPLOYMENT)
    assert rec.by_id(DEPLOYMENT, stage.input("deployment")) is deployment, stage.urn
    account = rec.one(ACCOUNT)
    role = rec.by_urn(next(u for u in account.dependencies if "iam/role:Role" in u))
    assert account.input("cloudwatchRoleArn") == role.state["arn"], account.urn
    assert "apigateway.amazonaws.com" in role.input("assumeRolePolicy"), role.urn
    assert account.urn in stage.dependencies, f"{stage.urn}: may be created before the role"


@pytest.fixture(scope="module")
def with_domain(dev: Recording) -> Recording:
    """dev with one service renamed (so its routes change) and a custom domain."""
    services = json.loads(json.dumps(dev.config["reevo:services"]))
    services[0]["name"] = "loans"
    gateway = {
        **dev.config["reevo:gateway"],
        "domainName": "api.dev.reevo.com.br",
        "certificateArn": "arn:aws:acm:sa-east-1:123456789012:certificate/abc",
    }
    return offline.evaluate("dev", overrides={"reevo:services": services, "reevo:gateway": gateway})


def test_a_route_change_redeploys(dev: Recording, with_domain: Recording) -> None:
    before = dev.one(DEPLOYMENT).input("triggers.redeployment")
    after = with_domain.one(DEPLOYMENT).input("triggers.redeployment")
    assert before and after, "the deployment has no redeployment trigger"
    assert before != after, "a changed route would not be deployed"


def test_deployment_waits_for_every_method_and_integration(rec: Recording) -> None:
    deployment = rec.one(DEPLOYMENT)
    for route in rec.of_type(METHOD, INTEGRATION):
        assert route.urn in deployment.dependencies, f"deployed before {route.urn}"


def test_rf_cad_002_user_pool_for_farmers_and_investors(rec: Recording) -> None:
    pool = rec.one(USER_POOL)
    policy = pool.input("passwordPolicy")
    assert policy["minimumLength"] >= 12, pool.urn
    assert all(
        policy[k]
        for k in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols")
    ), pool.urn
    assert pool.input("autoVerifiedAttributes") == ["email"], pool.urn
    assert {g.input("name") for g in rec.of_type(USER_GROUP)} >= {"farmers", "investors"}
    client = rec.one(POOL_CLIENT)
    assert client.input("generateSecret") is False, client.urn
    assert set(client.input("explicitAuthFlows")) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }, client.urn
    assert client.input("preventUserExistenceErrors") == "ENABLED", client.urn


def test_rnf_s_04_prod_user_pool_has_mfa_and_deletion_protection(prod: Recording) -> None:
    pool = prod.one(USER_POOL)
    assert pool.input("mfaConfiguration") in ("ON", "OPTIONAL"), pool.urn
    assert pool.input("softwareTokenMfaConfiguration.enabled") is True, pool.urn
    assert pool.input("deletionProtection") == "ACTIVE", pool.urn
    assert pool.protect, f"{pool.urn}: a destroy or replacement would lose every account"
    assert pool.input("userPoolAddOns.advancedSecurityMode") == "ENFORCED", pool.urn
    assert pool.input("userPoolTier") == "PLUS", pool.urn


def test_edge_outputs_are_exported(rec: Recording) -> None:
    outputs = rec.outputs
    assert outputs["apiInvokeUrl"].startswith("https://"), outputs["apiInvokeUrl"]
    assert outputs["userPoolId"] and outputs["userPoolClientId"]


def test_config_rejects_a_certificate_from_another_region() -> None:
    raw: dict[str, Any] = {
        "environment": "dev",
        "owner": "o",
        "costCenter": "c",
        "dataClassification": "internal",
        "network": {"cidr": "10.0.0.0/16"},
        "database": {"backupRetentionDays": 1},
        "gateway": {
            "domainName": "api.reevo.com.br",
            "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
        },
    }
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    assert "reevo:gateway.certificateArn" in str(err.value)
    raw["gateway"]["certificateArn"] = "arn:aws:acm:sa-east-1:123456789012:certificate/x"
    assert config.parse(raw).gateway.certificate_arn


def test_redeploy_hash_is_stable_and_sensitive() -> None:
    spec = {"method": {"authorization": "COGNITO_USER_POOLS", "http_method": "ANY"}}
    reordered = {"method": {"http_method": "ANY", "authorization": "COGNITO_USER_POOLS"}}
    changed = {"method": {"authorization": "NONE", "http_method": "ANY"}}
    assert redeploy_hash([spec]) == redeploy_hash([reordered])
    assert redeploy_hash([spec]) != redeploy_hash([changed])
