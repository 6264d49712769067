"""Stack-wide promises: structure, naming, tags, provider and region (RNF-S-04, RNF-P-01)."""

from __future__ import annotations

import importlib
import inspect
from functools import cache

from reevo_infra.offline import Recording

BASE_TAGS = ("Environment", "Owner", "DataClassification", "CostCenter", "Project")


@cache
def accepts_tags(token: str) -> bool:
    """Whether the pulumi-aws resource behind `token` takes a `tags` argument."""
    package, module_path, cls_name = token.split(":")
    if package != "aws":
        return False
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    cls = getattr(module, cls_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def components(rec: Recording) -> list:
    return [r for r in rec if not r.custom]


def test_rnf_s_04_every_aws_resource_uses_the_regional_provider(rec: Recording) -> None:
    provider = rec.one("pulumi:providers:aws")
    assert provider.input("region") == "sa-east-1"
    for r in rec:
        if r.custom and r.type.startswith("aws:"):
            assert r.provider_urn == provider.urn, f"{r.urn} escapes the regional provider"


def test_rnf_p_01_components_sit_under_the_stack_and_resources_under_components(
    rec: Recording,
) -> None:
    component_urns = {c.urn for c in components(rec)}
    for r in rec:
        if r.type.startswith("pulumi:providers:") or not r.custom:
            assert r.parent.endswith(f"pulumi:pulumi:Stack::reevo-{rec.stack}"), r.urn
        else:
            assert r.parent in component_urns, f"{r.urn} is not parented to a component"


def test_logical_names_are_prefixed_with_their_components_name(rec: Recording) -> None:
    for c in components(rec):
        assert c.name.startswith(f"reevo-{rec.stack}-"), c.urn
        for child in rec.children(c.urn):
            assert child.name.startswith(c.name), f"{child.urn} lacks the prefix {c.name}"


def test_rnf_s_04_every_taggable_resource_carries_the_base_tags(rec: Recording) -> None:
    tagged = [r for r in rec if r.custom and accepts_tags(r.type)]
    assert len(tagged) > 20
    for r in tagged:
        tags = r.input("tags") or {}
        missing = [t for t in BASE_TAGS if t not in tags]
        assert not missing, f"{r.urn} lacks tags {missing}"
        assert tags["Environment"] == rec.stack, r.urn


def test_name_tag_is_the_logical_name(rec: Recording) -> None:
    for r in rec:
        name = (r.input("tags") or {}).get("Name")
        if name is not None:
            assert name == r.name, f"{r.urn} has Name tag {name}"


def test_every_component_registers_its_outputs(rec: Recording) -> None:
    for c in components(rec):
        assert c.outputs, f"{c.urn} registered no outputs"


def test_rnf_s_04_stack_outputs_hold_no_secret_in_plain_text(rec: Recording) -> None:
    plain = repr({k: v for k, v in rec.outputs.items() if k not in rec.secret_outputs})
    passwords = rec.of_type("random:index/randomPassword:RandomPassword")
    generated = [r.state["result"] for r in passwords]
    assert generated, "the cache AUTH token comes from a RandomPassword"
    for value in generated:
        assert value not in plain
    for word in ("password", "authtoken", "auth_token", "kubeconfig", "secret_string"):
        assert word not in plain.lower()


def test_independent_tiers_are_created_in_parallel(rec: Recording) -> None:
    """The cluster, the database, the cache and the API wait for none of each other."""
    tiers = {
        "cluster": rec.one("aws:eks/cluster:Cluster"),
        "database": rec.one("aws:rds/instance:Instance"),
        "cache": rec.one("aws:elasticache/replicationGroup:ReplicationGroup"),
        "api": rec.one("aws:apigateway/restApi:RestApi"),
    }
    urns = {t.urn for t in tiers.values()}
    for name, tier in tiers.items():
        blocking = rec.waits_for(tier.urn) & urns
        assert not blocking, f"{name} waits for {sorted(blocking)}"
