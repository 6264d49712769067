"""The policy pack, run without the CLI: every policy passes on the recorded stacks and fires
on a deliberately broken resource.

The engine hands policies read-only proxies of the resource properties; these tests build the
same `PolicyResource`s (through `unknown_checking_proxy`) from the recording. Tiers not on main
yet (database, cache, cluster, workloads, edge) are written by hand, as their components will
register them, so each policy is proven against a good and a broken resource today.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy
from requirement_policies import POLICIES, policy_name

from reevo_infra import report
from reevo_infra.checks import availability
from reevo_infra.checks import view as c
from reevo_infra.offline import Recording
from reevo_infra.requirements import PROPERTIES, Resource

KEY = "arn:aws:kms:sa-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
POLICY_BY_NAME = {p.name: p for p in POLICIES}


def engine(resources: list[Resource]) -> list[PolicyResource]:
    """The resources as the policy engine presents them (ids among the outputs)."""
    providers = {
        r.urn: PolicyProviderResource(r.type, unknown_checking_proxy(dict(r.props)), r.urn, r.name)
        for r in resources
        if r.type.startswith("pulumi:providers:")
    }
    built: dict[str, PolicyResource] = {}
    for r in resources:
        props = {**r.props, "id": r.id} if r.id else dict(r.props)
        opts = PolicyResourceOptions(
            r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], r.parent or None
        )
        built[r.urn] = PolicyResource(
            r.type,
            unknown_checking_proxy(props),
            r.urn,
            r.name,
            opts,
            providers.get(r.provider),
            built.get(r.parent),
            [],
            {},
        )
    return list(built.values())


def violations(policy: Policy, resources: list[Resource]) -> list[tuple[str | None, str]]:
    """Run one policy the way the engine would; return (urn, message) per violation."""
    found: list[tuple[str | None, str]] = []
    resource_urn: str | None = None

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append((urn or resource_urn, message))

    stack = engine(resources)
    if isinstance(policy, ResourceValidationPolicy):
        for r in stack:
            resource_urn = r.urn
            args = ResourceValidationArgs(
                r.resource_type, r.props, r.urn, r.name, r.opts, r.provider
            )
            policy.validate(args, report_violation)
    else:
        policy.validate(StackValidationArgs(stack), report_violation)  # type: ignore[attr-defined]
    return found


# ---- a complete prod stack: the recording plus the tiers other branches will add


def _find(resources: list[Resource], typ: str, name_part: str = "") -> Resource:
    return next(r for r in resources if r.type == typ and name_part in r.name)


def _add(
    resources: list[Resource],
    typ: str,
    name: str,
    props: dict[str, Any],
    component: str = "reevo:data:Data",
    **extra: Any,
) -> Resource:
    base = _find(resources, c.VPC)
    stack_urn = base.urn.split("::")[0]
    parent = f"{stack_urn}::reevo-infra::{component}::reevo-prod-{component.split(':')[1]}"
    if not any(r.urn == parent for r in resources):
        resources.append(
            Resource(urn=parent, type=component, name=parent.rsplit("::", 1)[1], props={})
        )
    tags = dict(base.props["tags"], Name=name)
    r = Resource(
        urn=f"{stack_urn}::reevo-infra::{component}${typ}::{name}",
        type=typ,
        name=name,
        props={"tags": tags, **props} if c.accepts_tags(typ) else props,
        parent=parent,
        provider=base.provider,
        id=f"{name}-id",
        **extra,
    )
    resources.append(r)
    return r


def complete_stack(prod: Recording) -> list[Resource]:
    """prod as recorded, plus a data tier, cluster, workload and edge that meet every property."""
    rs = report.resources_of(prod)
    app = [r.id for r in rs if r.type == c.SUBNET and r.props["tags"]["Tier"] == "app"]
    data = [r.id for r in rs if r.type == c.SUBNET and r.props["tags"]["Tier"] == "data"]

    _add(rs, c.RDS_SUBNETS, "reevo-prod-db-subnets", {"subnetIds": data})
    _add(
        rs,
        c.RDS_PARAMS,
        "reevo-prod-db-params",
        {"family": "postgres17", "parameters": [{"name": "rds.force_ssl", "value": "1"}]},
    )
    _add(
        rs,
        c.RDS,
        "reevo-prod-db",
        {
            "multiAz": True,
            "backupRetentionPeriod": 14,
            "deletionProtection": True,
            "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": "reevo-prod-db-final",
            "copyTagsToSnapshot": True,
            "storageEncrypted": True,
            "kmsKeyId": KEY,
            "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": KEY,
            "publiclyAccessible": False,
            "allocatedStorage": 100,
            "maxAllocatedStorage": 1000,
            "parameterGroupName": "reevo-prod-db-params",
            "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
        },
        protect=True,
    )
    _add(rs, c.CACHE_SUBNETS, "reevo-prod-cache-subnets", {"subnetIds": data})
    _add(
        rs,
        c.CACHE,
        "reevo-prod-cache",
        {
            "numCacheClusters": 3,
            "automaticFailoverEnabled": True,
            "multiAzEnabled": True,
            "snapshotRetentionLimit": 7,
            "atRestEncryptionEnabled": True,
            "kmsKeyId": KEY,
            "transitEncryptionEnabled": True,
        },
        protect=True,
    )
    _add(rs, c.SECRET, "reevo-prod-cache-auth", {"kmsKeyId": KEY})

    _add(
        rs,
        c.EKS,
        "reevo-prod-eks",
        {
            "vpcConfig": {
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
                "subnetIds": app,
            },
            "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
            "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        },
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.ADDON,
        "reevo-prod-eks-vpc-cni",
        {
            "addonName": "vpc-cni",
            "configurationValues": json.dumps({"enableNetworkPolicy": "true"}),
        },
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.LAUNCH_TEMPLATE,
        "reevo-prod-eks-nodes-lt",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY}}
            ]
        },
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.NODE_GROUP,
        "reevo-prod-eks-nodes",
        {
            "subnetIds": app,
            "scalingConfig": {"minSize": 3, "desiredSize": 3, "maxSize": 12},
            "launchTemplate": {"id": "lt-1", "version": "1"},
        },
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.ECR,
        "reevo-prod-ecr-credit",
        {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}]},
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.BUCKET,
        "reevo-prod-artifacts",
        {"bucket": "reevo-prod-artifacts"},
        "reevo:compute:Cluster",
    )
    _add(
        rs,
        c.BUCKET_SSE,
        "reevo-prod-artifacts-sse",
        {
            "bucket": "reevo-prod-artifacts",
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": KEY,
                    }
                }
            ],
        },
        "reevo:compute:Cluster",
    )

    meta = {"name": "credit", "namespace": "reevo"}
    probe = {"httpGet": {"path": "/healthz", "port": 8080}}
    _add(
        rs,
        c.DEPLOYMENT,
        "credit",
        {
            "metadata": meta,
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "credit"}},
                "template": {
                    "metadata": {"labels": {"app": "credit"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "credit",
                                "image": "123.dkr.ecr/credit:0.1.0",
                                "livenessProbe": probe,
                                "readinessProbe": probe,
                            }
                        ],
                        "topologySpreadConstraints": [
                            {"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1}
                        ],
                    },
                },
            },
        },
        "reevo:platform:Workloads",
    )
    _add(
        rs,
        c.HPA,
        "credit-hpa",
        {
            "metadata": meta,
            "spec": {
                "minReplicas": 2,
                "maxReplicas": 10,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "credit"},
            },
        },
        "reevo:platform:Workloads",
    )
    _add(
        rs,
        c.PDB,
        "credit-pdb",
        {
            "metadata": meta,
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "credit"}}},
        },
        "reevo:platform:Workloads",
    )
    _add(
        rs,
        c.NETWORK_POLICY,
        "default-deny",
        {
            "metadata": {"name": "default-deny", "namespace": "reevo"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        "reevo:platform:Workloads",
    )

    edge = "reevo:edge:Api"
    _add(
        rs,
        c.METHOD,
        "reevo-prod-api-get",
        {
            "restApi": "api1",
            "httpMethod": "GET",
            "authorization": "COGNITO_USER_POOLS",
            "authorizerId": "auth1",
        },
        edge,
    )
    _add(
        rs,
        c.INTEGRATION,
        "reevo-prod-api-get-int",
        {"restApi": "api1", "type": "HTTP_PROXY", "connectionType": "VPC_LINK"},
        edge,
    )
    logs = _find(rs, c.LOG_GROUP)
    _add(
        rs,
        c.STAGE,
        "reevo-prod-api-stage",
        {
            "restApi": "api1",
            "stageName": "v1",
            "accessLogSettings": {"destinationArn": logs.props["arn"], "format": "{}"},
        },
        edge,
    )
    _add(
        rs,
        c.METHOD_SETTINGS,
        "reevo-prod-api-throttle",
        {
            "restApi": "api1",
            "stageName": "v1",
            "methodPath": "*/*",
            "settings": {"throttlingRateLimit": 500, "throttlingBurstLimit": 1000},
        },
        edge,
    )
    acl_arn = "arn:aws:wafv2:sa-east-1:123456789012:regional/webacl/reevo-prod-waf/abc"
    managed = [
        {
            "name": n,
            "priority": i,
            "statement": {"managedRuleGroupStatement": {"name": n, "vendorName": "AWS"}},
        }
        for i, n in enumerate(c.WAF_MANAGED_RULES)
    ]
    rate = {
        "name": "rate",
        "priority": 9,
        "statement": {"rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}},
    }
    _add(
        rs,
        c.WEB_ACL,
        "reevo-prod-waf",
        {"scope": "REGIONAL", "rules": [*managed, rate], "arn": acl_arn},
        edge,
    )
    _add(
        rs,
        c.WEB_ACL_ASSOC,
        "reevo-prod-waf-stage",
        {
            "webAclArn": acl_arn,
            "resourceArn": "arn:aws:apigateway:sa-east-1::/restapis/api1/stages/v1",
        },
        edge,
    )
    _add(
        rs,
        c.WEB_ACL_LOGGING,
        "reevo-prod-waf-logs",
        {
            "resourceArn": acl_arn,
            "logDestinationConfigs": [logs.props["arn"]],
            "redactedFields": [{"singleHeader": {"name": "authorization"}}],
        },
        edge,
    )

    topic = "arn:aws:sns:sa-east-1:123456789012:reevo-prod-alerts"
    _add(rs, c.SNS, "reevo-prod-alerts", {"kmsMasterKeyId": KEY}, "reevo:ops:Alerts")
    for ns in ("AWS/RDS", "AWS/ElastiCache", "AWS/ApiGateway", "ContainerInsights"):
        _add(
            rs,
            c.ALARM,
            f"reevo-prod-alarm-{ns.split('/')[-1].lower()}",
            {"namespace": ns, "alarmActions": [topic]},
            "reevo:ops:Alerts",
        )
    return rs


# ---- one break per property: (what is broken, how)

Break = Callable[[list[Resource]], None]


def _set(rs: list[Resource], typ: str, path: str, value: Any, name_part: str = "") -> None:
    """Replace the first `typ` resource with a copy whose `path` input is `value` (or gone)."""
    i = next(i for i, r in enumerate(rs) if r.type == typ and name_part in r.name)
    props = copy.deepcopy(dict(rs[i].props))
    *parents, leaf = path.split(".")
    node: Any = props
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _GONE:
        del node[leaf]
    elif isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    rs[i] = dataclasses.replace(rs[i], props=props)


def _drop(rs: list[Resource], typ: str) -> None:
    rs[:] = [r for r in rs if r.type != typ]


_GONE = object()


def _app_route_via_other_az(rs: list[Resource]) -> None:
    routes = sorted(
        (r for r in rs if r.type == c.ROUTE and "natGatewayId" in r.props), key=lambda r: r.name
    )
    _set(rs, c.ROUTE, "natGatewayId", routes[1].props["natGatewayId"], routes[0].name)


def _one_az(rs: list[Resource]) -> None:
    for subnet in [r for r in rs if r.type == c.SUBNET]:
        _set(rs, c.SUBNET, "availabilityZone", "sa-east-1a", subnet.name)


def _public_subnet_ids(rs: list[Resource]) -> list[str]:
    return [r.id for r in rs if r.type == c.SUBNET and r.props["tags"]["Tier"] == "public"]


def _data_route_to_igw(rs: list[Resource]) -> None:
    table = _find(rs, c.ROUTE_TABLE, "-data-rt")
    igw = _find(rs, c.IGW)
    _add(
        rs,
        c.ROUTE,
        "reevo-prod-net-data-leak",
        {"routeTableId": table.id, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw.id},
        "reevo:network:Network",
    )


BREAKS: dict[str, Break] = {
    "az-count": _one_az,
    "nat-per-az": _app_route_via_other_az,
    "rds-multi-az": lambda rs: _set(rs, c.RDS, "multiAz", False),
    "cache-ha": lambda rs: _set(rs, c.CACHE, "numCacheClusters", 1),
    "node-groups-span-azs": lambda rs: _set(rs, c.NODE_GROUP, "scalingConfig.minSize", 1),
    "workload-probes": lambda rs: _set(
        rs, c.DEPLOYMENT, "spec.template.spec.containers.0.readinessProbe", _GONE
    ),
    "workload-ha": lambda rs: _drop(rs, c.PDB),
    "alarms": lambda rs: _drop(rs, c.ALARM),
    "rds-backups": lambda rs: _set(rs, c.RDS, "backupRetentionPeriod", 3),
    "rds-deletion-safety": lambda rs: _set(rs, c.RDS, "deletionProtection", False),
    "cache-snapshots": lambda rs: _set(rs, c.CACHE, "snapshotRetentionLimit", 0),
    "stateful-protected": lambda rs: rs.__setitem__(
        rs.index(_find(rs, c.KMS_KEY)), dataclasses.replace(_find(rs, c.KMS_KEY), protect=False)
    ),
    "node-autoscaling": lambda rs: _set(rs, c.NODE_GROUP, "scalingConfig.maxSize", 3),
    "workload-hpa": lambda rs: _drop(rs, c.HPA),
    "rds-storage-autoscaling": lambda rs: _set(rs, c.RDS, "maxAllocatedStorage", 100),
    "api-throttling": lambda rs: _drop(rs, c.METHOD_SETTINGS),
    "kms-keys": lambda rs: _set(rs, c.KMS_KEY, "enableKeyRotation", False),
    "customer-key-encryption": lambda rs: _set(rs, c.CACHE, "kmsKeyId", _GONE),
    "buckets-encrypted": lambda rs: _drop(rs, c.BUCKET_SSE),
    "region": lambda rs: _set(rs, c.AWS_PROVIDER, "region", "us-east-1"),
    "regional-provider": lambda rs: rs.__setitem__(
        rs.index(_find(rs, c.RDS)), dataclasses.replace(_find(rs, c.RDS), provider="")
    ),
    "no-public-database": lambda rs: _set(rs, c.RDS, "publiclyAccessible", True),
    "data-in-isolated-subnets": lambda rs: _set(
        rs, c.RDS_SUBNETS, "subnetIds", _public_subnet_ids(rs)
    ),
    "private-subnets": _data_route_to_igw,
    "no-world-ingress": lambda rs: _set(rs, c.SG_INGRESS, "cidrIpv4", "0.0.0.0/0"),
    "tls-in-transit": lambda rs: _set(rs, c.RDS_PARAMS, "parameters.0.value", "0"),
    "flow-logs": lambda rs: _drop(rs, c.FLOW_LOG),
    "log-retention": lambda rs: _set(rs, c.LOG_GROUP, "retentionInDays", 0),
    "audit-logs": lambda rs: _set(rs, c.EKS, "enabledClusterLogTypes", ["api"]),
    "waf-logs": lambda rs: _set(rs, c.WEB_ACL_LOGGING, "redactedFields", []),
    "eks-endpoint": lambda rs: _set(rs, c.EKS, "vpcConfig.endpointPublicAccess", True),
    "node-groups-private": lambda rs: _set(rs, c.NODE_GROUP, "subnetIds", _public_subnet_ids(rs)),
    "network-policies": lambda rs: _drop(rs, c.NETWORK_POLICY),
    "tags": lambda rs: _set(rs, c.VPC, "tags.Owner", _GONE),
    "behind-components": lambda rs: rs.__setitem__(
        rs.index(_find(rs, c.VPC)), dataclasses.replace(_find(rs, c.VPC), parent="")
    ),
    "plain-workloads": lambda rs: _set(
        rs,
        c.DEPLOYMENT,
        "spec.template.spec.nodeSelector",
        {"eks.amazonaws.com/nodegroup": "reevo-prod-eks-nodes"},
    ),
    "method-authorizer": lambda rs: _set(rs, c.METHOD, "authorization", "NONE"),
    "waf-on-stages": lambda rs: _drop(rs, c.WEB_ACL_ASSOC),
    "waf-rules": lambda rs: _set(rs, c.WEB_ACL, "rules.2", {"name": "noop", "priority": 2}),
    "private-integration": lambda rs: _set(rs, c.INTEGRATION, "connectionType", "INTERNET"),
}

IDS = [policy_name(p) for p in PROPERTIES]


def test_every_property_is_a_mandatory_policy_with_a_break_case() -> None:
    assert sorted(POLICY_BY_NAME) == sorted(IDS)
    assert {p.key for p in PROPERTIES} == set(BREAKS)
    assert all(
        p.enforcement_level is not None and p.enforcement_level.value == "mandatory"
        for p in POLICIES
    )


@pytest.mark.parametrize("name", IDS)
def test_policy_passes_on_the_recorded_stack(rec: Recording, name: str) -> None:
    found = violations(POLICY_BY_NAME[name], report.resources_of(rec))
    assert found == [], f"{rec.stack}: {found}"


@pytest.mark.parametrize("name", IDS)
def test_policy_passes_on_the_complete_prod_stack(prod: Recording, name: str) -> None:
    found = violations(POLICY_BY_NAME[name], complete_stack(prod))
    assert found == []


@pytest.mark.parametrize("prop", PROPERTIES, ids=IDS)
def test_policy_fires_on_a_broken_resource(prod: Recording, prop: Any) -> None:
    rs = complete_stack(prod)
    BREAKS[prop.key](rs)
    found = violations(POLICY_BY_NAME[policy_name(prop)], rs)
    assert found, f"{prop.key} did not fire"
    assert all(prop.requirement in message for _, message in found)
    assert all(urn for urn, _ in found), "every violation names a resource"


def test_dev_is_not_held_to_prod_only_properties(dev: Recording) -> None:
    rs = report.resources_of(dev)
    _add(
        rs,
        c.RDS,
        "reevo-dev-db",
        {"multiAz": False, "deletionProtection": False, "backupRetentionPeriod": 1},
    )
    assert violations(POLICY_BY_NAME["rnf-cf-01-rds-multi-az"], rs) == []
    assert violations(POLICY_BY_NAME["rnf-cf-03-rds-backups"], rs) == []


def test_unknown_values_at_preview_defer_rather_than_pass() -> None:
    # A value the engine cannot know at preview raises from the proxy; the engine turns that
    # into "can't run policy during preview" instead of a silent pass.
    from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UnknownValueError

    props: Mapping[str, Any] = unknown_checking_proxy({"multiAz": UNKNOWN_BOOLEAN_VALUE})
    with pytest.raises(UnknownValueError):
        availability.rds_multi_az(c.RDS, props, "prod")
