"""Evaluate the real program for a stack under Pulumi's mock engine, and record what it asks for.

No cloud credentials and no Pulumi CLI are needed: the program runs in-process, every resource
registration is recorded with its inputs and the options the engine would see, and a fake
cloud answers with realistic ids, ARNs and endpoints.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import (
    MockCallArgs,
    MockEngine,
    MockMonitor,
    MockResourceArgs,
    Mocks,
    MockSettings,
)
from pulumi.runtime.stack import run_in_stack

from reevo_infra.config import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT = "reevo"
ACCOUNT = "123456789012"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class UnmockedInvokeError(RuntimeError):
    """The program called a function the fake cloud does not answer."""


def _hex(*parts: str, n: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


# Physical id prefixes AWS uses, for the types whose ids other resources consume.
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:apigateway/restApi:RestApi": "",
}

# Where an ARN's service and resource part come from, for the types that expose `arn`.
_ARN = {
    "aws:kms/key:Key": ("kms", "key/{uuid}"),
    "aws:kms/alias:Alias": ("kms", "alias/{name}"),
    "aws:iam/role:Role": ("iam", "role/{name}"),
    "aws:iam/policy:Policy": ("iam", "policy/{name}"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "iam",
        "oidc-provider/oidc.eks.{region}.amazonaws.com/id/{upper}",
    ),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", "log-group:{name}"),
    "aws:sns/topic:Topic": ("sns", "{name}"),
    "aws:rds/instance:Instance": ("rds", "db:{name}"),
    "aws:rds/parameterGroup:ParameterGroup": ("rds", "pg:{name}"),
    "aws:rds/subnetGroup:SubnetGroup": ("rds", "subgrp:{name}"),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("elasticache", "replicationgroup:{name}"),
    "aws:secretsmanager/secret:Secret": ("secretsmanager", "secret:{name}-AbCdEf"),
    "aws:eks/cluster:Cluster": ("eks", "cluster/{name}"),
    "aws:eks/nodeGroup:NodeGroup": ("eks", "nodegroup/{name}/{uuid}"),
    "aws:ecr/repository:Repository": ("ecr", "repository/{name}"),
    "aws:lb/loadBalancer:LoadBalancer": ("elasticloadbalancing", "loadbalancer/net/{name}/{hex}"),
    "aws:lb/targetGroup:TargetGroup": ("elasticloadbalancing", "targetgroup/{name}/{hex}"),
    "aws:lb/listener:Listener": ("elasticloadbalancing", "listener/net/{name}/{hex}"),
    "aws:cognito/userPool:UserPool": ("cognito-idp", "userpool/{region}_{short}"),
    "aws:wafv2/webAcl:WebAcl": ("wafv2", "regional/webacl/{name}/{uuid}"),
    "aws:apigateway/vpcLink:VpcLink": ("apigateway", "/vpclinks/{short}"),
    "aws:s3/bucket:Bucket": ("s3", "{name}"),
}


# Types whose physical name the provider generates (logical name plus a random suffix) when
# the program gives none, and which other resources reference by that name.
_AUTONAMED = {
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
    "aws:elasticache/parameterGroup:ParameterGroup",
}


_MAX_32 = ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup")


class FakeCloud(Mocks):
    """Answers resource registrations and the invokes the program makes, as AWS would."""

    def __init__(self, region: str) -> None:
        self.region = region

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        region = self.region
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abc"
            return {
                "names": [f"{region}{x}" for x in letters],
                "zoneIds": [f"sae1-az{i}" for i in range(1, len(letters) + 1)],
                "id": region,
            }, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "userId": "AIDAEXAMPLE",
                "id": ACCOUNT,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}, []
        raise UnmockedInvokeError(f"the fake cloud does not answer invoke {args.token!r}")

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        resource_id = _ID_PREFIX.get(typ, "")
        resource_id = f"{resource_id}{_hex(typ, name)}" if resource_id else f"{name}-id"
        state = dict(inputs)
        if "namePrefix" in state:
            # The provider appends a 26-character unique id; load balancers cut it to fit 32.
            generated = f"{state['namePrefix']}{_hex(name, n=26)}"
            state["name"] = generated[:32] if typ in _MAX_32 else generated
        elif "name" not in state and not typ.startswith(("kubernetes:", "pulumi:")):
            # Pulumi auto-names resources that take a name: logical name plus a suffix.
            state["name"] = f"{name}-{_hex(name, n=7)}"
        physical = state.get("identifier") or state.get("name") or name
        physical = physical if isinstance(physical, str) else name
        if typ in _ARN:
            service, template = _ARN[typ]
            uuid = _hex(typ, name, n=32)
            resource = template.format(
                name=physical,
                region=self.region,
                hex=_hex(name, n=16),
                upper=uuid.upper(),
                short=_hex(name, n=10),
                uuid=f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}",
            )
            account = "" if service == "s3" else ACCOUNT
            region = "" if service in ("iam", "s3") else self.region
            sep = "" if resource.startswith("/") else ":"
            state["arn"] = f"arn:aws:{service}:{region}:{account}{sep}{resource}"
            if typ == "aws:kms/key:Key":
                state["keyId"] = resource.removeprefix("key/")
        state.update(self._extra_state(typ, name, physical, state))
        return resource_id, state

    def _extra_state(self, typ: str, name: str, physical: str, state: dict) -> dict:
        region = self.region
        short = _hex(name, n=12)
        if typ in _AUTONAMED and not state.get("name"):
            return {"name": f"{name}-{_hex(name, 'autoname', n=7)}"}
        if typ == "aws:rds/instance:Instance":
            host = f"{physical}.{short}.{region}.rds.amazonaws.com"
            secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:rds!db-{short}-AbCdEf"
            return {
                "address": host,
                "endpoint": f"{host}:5432",
                "port": state.get("port", 5432),
                "masterUserSecrets": [
                    {
                        "secretArn": secret,
                        "kmsKeyId": state.get("masterUserSecretKmsKeyId"),
                        "secretStatus": "active",
                    }
                ],
                "resourceId": f"db-{short.upper()}",
            }
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            rg = state.get("replicationGroupId", physical)
            return {
                "primaryEndpointAddress": f"master.{rg}.{short}.sae1.cache.amazonaws.com",
                "readerEndpointAddress": f"replica.{rg}.{short}.sae1.cache.amazonaws.com",
                "memberClusters": [
                    f"{rg}-00{i}" for i in range(1, int(state.get("numCacheClusters", 1)) + 1)
                ],
            }
        if typ == "aws:eks/cluster:Cluster":
            issuer_id = short.upper()
            return {
                "endpoint": f"https://{short.upper()}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t"},
                "identities": [
                    {
                        "oidcs": [
                            {"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}
                        ]
                    }
                ],
                "vpcConfig": {
                    **(state.get("vpcConfig") or {}),
                    "clusterSecurityGroupId": f"sg-{_hex(name, 'cluster', n=17)}",
                },
                "status": "ACTIVE",
            }
        if typ == "aws:eks/nodeGroup:NodeGroup":
            group = state.get("nodeGroupName") or f"{name}-{_hex(name, n=7)}"
            return {
                "nodeGroupName": group,
                "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{short}"}]}],
                "status": "ACTIVE",
            }
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider" and state.get("url"):
            host = str(state["url"]).removeprefix("https://")
            return {"arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"}
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "defaultVersion": 1}
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            return {
                "dnsName": f"{physical}-{short}.elb.{region}.amazonaws.com",
                "zoneId": "Z2P70J7HTTTPLU",
                "arnSuffix": state["arn"].split(":loadbalancer/", 1)[1],
            }
        if typ == "aws:lb/targetGroup:TargetGroup":
            return {"arnSuffix": state["arn"].rsplit(":", 1)[1]}
        if typ == "aws:apigateway/restApi:RestApi":
            api = _hex(name, n=10)
            return {
                "rootResourceId": _hex(name, "root", n=10),
                "executionArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}",
                "arn": f"arn:aws:apigateway:{region}::/restapis/{api}",
            }
        if typ == "aws:ecr/repository:Repository":
            return {"repositoryUrl": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{physical}"}
        if typ == "random:index/randomPassword:RandomPassword":
            # Letters, digits and one special of each class the inputs ask for.
            length = int(state.get("length", 32))
            token = (_hex(name, "password", n=length - 3) + "Q7!")[:length]
            return {"result": token}
        if typ == "aws:cognito/userPool:UserPool":
            return {"endpoint": f"cognito-idp.{region}.amazonaws.com/{region}_{short}"}
        if typ == "aws:apigateway/stage:Stage":
            rest_api, stage = state.get("restApi"), state.get("stageName")
            return {
                "arn": f"arn:aws:apigateway:{region}::/restapis/{rest_api}/stages/{stage}",
                "invokeUrl": f"https://{rest_api}.execute-api.{region}.amazonaws.com/{stage}",
                "executionArn": f"arn:aws:execute-api:{region}:{ACCOUNT}:{rest_api}/{stage}",
            }
        if typ == "aws:apigateway/domainName:DomainName":
            return {"regionalDomainName": f"d-{short}.execute-api.{region}.amazonaws.com"}
        if typ == "aws:apigateway/authorizer:Authorizer":
            return {
                "arn": f"arn:aws:apigateway:{region}::/restapis/{state.get('restApi')}"
                f"/authorizers/{name}-id"
            }
        return {}


@dataclass
class Registration:
    """One resource as the engine saw it: what it is, its inputs, and its options."""

    urn: str
    id: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    options: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def input(self, path: str, default: Any = None) -> Any:
        """An input by dotted path, e.g. `vpcConfig.subnetIds`; lists take an index."""
        value: Any = self.inputs
        for part in path.split("."):
            if isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            elif isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                return default
        return value

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0]


def _whole_numbers(value: Any) -> Any:
    """The wire format carries every number as a double; give whole ones back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def _secret_keys(struct: Any) -> frozenset[str]:
    raw = json_format.MessageToDict(struct)

    def has_secret(value: Any) -> bool:
        if isinstance(value, dict):
            return _SECRET_SIG in value.values() or any(has_secret(v) for v in value.values())
        if isinstance(value, list):
            return any(has_secret(v) for v in value)
        return False

    return frozenset(k for k, v in raw.items() if has_secret(v))


class RecordingMonitor(MockMonitor):
    """The mock monitor, plus a record of every registration and its engine-visible options."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.secret_outputs: frozenset[str] = frozenset()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        urn = response.urn
        inputs = rpc.deserialize_properties(request.object)
        registered = self.resources.get(urn)
        self.registrations[urn] = Registration(
            urn=urn,
            id=response.id,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=request.custom,
            provider=request.provider,
            protect=bool(request.protect),
            dependencies=sorted(request.dependencies),
            inputs=_whole_numbers(dict(inputs)),
            secret_inputs=_secret_keys(request.object),
            options={
                "deleteBeforeReplace": request.deleteBeforeReplace,
                "ignoreChanges": sorted(request.ignoreChanges),
                "retainOnDelete": bool(request.retainOnDelete),
                "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                "replaceOnChanges": sorted(request.replaceOnChanges),
                "deletedWith": request.deletedWith,
            },
            state=_whole_numbers(dict(registered.state)) if registered else {},
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        outputs = rpc.deserialize_properties(request.outputs)
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = _whole_numbers(dict(outputs))
            self.secret_outputs = _secret_keys(request.outputs)
        elif request.urn in self.registrations:
            self.registrations[request.urn].outputs = _whole_numbers(dict(outputs))
        return super().RegisterResourceOutputs(request)


@dataclass
class Recording:
    """Everything one evaluation of the program registered, in registration order."""

    stack: str
    config: dict[str, Any]
    resources: list[Registration]
    outputs: dict[str, Any]
    secret_outputs: frozenset[str]

    def of_type(self, *types: str) -> list[Registration]:
        return [r for r in self.resources if r.type in types]

    def one(self, typ: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ} named {name!r}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise LookupError(urn)

    def by_id(self, typ: str, resource_id: str) -> Registration:
        """The registered resource of `typ` whose physical id is `resource_id`."""
        for r in self.of_type(typ):
            if r.id == resource_id:
                return r
        raise LookupError(f"no {typ} with id {resource_id}")

    def waits_for(self, urn: str) -> set[str]:
        """Every URN that `urn` waits for on a real deploy: its dependencies, transitively."""
        by_urn = {r.urn: r for r in self.resources}
        seen: set[str] = set()
        todo = list(by_urn[urn].dependencies)
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(by_urn[dep].dependencies if dep in by_urn else [])
        return seen

    def children(self, parent_urn: str) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent_urn]

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.resources)


def stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` map of Pulumi.<stack>.yaml, keys fully qualified."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name} in {project_dir}")
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        reason = str(err).replace("\n", " ")
        raise ConfigError([f"{path.name}: not valid YAML: {reason}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config or {}, dict):
        raise ConfigError([f"{path.name}: `config` must map keys to values"])
    return dict(config or {})


def _flatten(config: Mapping[str, Any]) -> dict[str, str]:
    # The language host hands the program config as strings; objects and lists as JSON.
    import json

    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def evaluate(
    stack: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    monitor: RecordingMonitor | None = None,
) -> Recording:
    """Run `__main__.py` for `stack` under the mock engine and return what it registered.

    `config` replaces the stack file's config; `overrides` are merged over it (a value of
    None removes the key). Exceptions from the program propagate, as in `pulumi up`; pass a
    `monitor` to inspect what was registered before one was raised.
    """
    merged = dict(stack_config(stack, project_dir) if config is None else config)
    for key, value in (overrides or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    region = str(merged.get("aws:region", "sa-east-1"))

    monitor = monitor or RecordingMonitor(FakeCloud(region))
    mock_settings = MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=MockEngine(logging.getLogger("reevo.offline")),
        project=PROJECT,
        stack=stack,
        dry_run=False,
        organization="organization",
        callbacks=None,
    )
    settings.configure(mock_settings)
    settings.ROOT.set(None)
    runtime_config.set_all_config(_flatten(merged), [])

    program = str(project_dir / "__main__.py")

    def run_program() -> None:
        runpy.run_path(program, run_name="__main__")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(run_program))
    finally:
        loop.close()
        asyncio.set_event_loop(None)

    # Registration order follows the event loop and varies from run to run; URN order does not.
    resources = sorted(
        (r for r in monitor.registrations.values() if r.type != "pulumi:pulumi:Stack"),
        key=lambda r: r.urn,
    )
    return Recording(
        stack=stack,
        config=merged,
        resources=resources,
        outputs=monitor.stack_outputs,
        secret_outputs=monitor.secret_outputs,
    )
