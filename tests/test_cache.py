"""The Cache component, read from what each stack registers."""

from __future__ import annotations

import json
from typing import Any

from reevo_infra.components.cache import AUTH_TOKEN_SPECIALS, PARAMETER_FAMILIES
from reevo_infra.offline import Recording, Registration
from reevo_infra.windows import length_minutes, overlap
from tests import support

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:elasticache/parameterGroup:ParameterGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
TOKEN = "random:index/randomPassword:RandomPassword"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KEY = "aws:kms/key:Key"


def _cache(rec: Recording) -> Registration:
    return rec.one(GROUP)


def _unwrap(value: Any) -> Any:
    """The plain value inside a recorded secret input."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _token(rec: Recording) -> str:
    return str(_unwrap(_cache(rec).input("authToken")))


def _secret(rec: Recording) -> Registration:
    [secret] = [
        s for s in rec.of_type(SECRET) if s.state.get("arn") == rec.outputs["cacheSecretArn"]
    ]
    return secret


def test_rnf_cf_01_prod_cache_has_nodes_in_different_azs(prod: Recording) -> None:
    cache = _cache(prod)
    nodes = int(cache.input("numCacheClusters"))
    azs = cache.input("preferredCacheClusterAzs")
    assert nodes >= 2, cache.urn
    assert len(azs) == nodes and len(set(azs)) >= 2, cache.urn


def test_rnf_cf_01_prod_cache_fails_over_across_azs(prod: Recording) -> None:
    cache = _cache(prod)
    assert cache.input("automaticFailoverEnabled") is True, cache.urn
    assert cache.input("multiAzEnabled") is True, cache.urn


def test_rnf_cf_03_prod_keeps_daily_snapshots_a_week(prod: Recording) -> None:
    cache = _cache(prod)
    assert cache.input("snapshotRetentionLimit") >= 7, cache.urn
    assert length_minutes(cache.input("snapshotWindow")) >= 60, cache.urn
    assert cache.input("finalSnapshotIdentifier"), cache.urn


def test_rnf_cf_03_cache_windows_are_valid_and_apart(rec: Recording) -> None:
    cache = _cache(rec)
    snapshot, maintenance = cache.input("snapshotWindow"), cache.input("maintenanceWindow")
    assert length_minutes(maintenance) >= 60, cache.urn
    assert not overlap(snapshot, maintenance), cache.urn


def test_rnf_cf_03_prod_cache_token_secret_and_key_are_protected(prod: Recording) -> None:
    key = support.key(prod, "data")
    for r in [_cache(prod), _secret(prod), *prod.of_type(TOKEN, SECRET_VERSION), key]:
        assert r.protect, r.urn


def test_rnf_s_01_cache_is_encrypted_at_rest_with_the_data_key(rec: Recording) -> None:
    cache, key = _cache(rec), support.key(rec, "data")
    assert cache.input("atRestEncryptionEnabled") is True, cache.urn
    assert cache.input("kmsKeyId") == key.state["arn"], cache.urn


def test_rnf_s_01_auth_secret_is_encrypted_with_the_data_key(rec: Recording) -> None:
    secret, key = _secret(rec), support.key(rec, "data")
    assert secret.input("kmsKeyId") == key.state["arn"], secret.urn


def test_rnf_s_04_cache_requires_tls_and_auth(rec: Recording) -> None:
    cache = _cache(rec)
    assert cache.input("transitEncryptionEnabled") is True, cache.urn
    assert cache.input("transitEncryptionMode") == "required", cache.urn
    assert "authToken" in cache.secret_inputs, f"{cache.urn}: AUTH token missing or plain"
    assert cache.input("authTokenUpdateStrategy") == "SET", cache.urn


def test_rnf_s_04_auth_token_meets_elasticache_rules(rec: Recording) -> None:
    [token] = rec.of_type(TOKEN)
    assert 16 <= token.input("length") <= 128, token.urn
    assert set(token.input("overrideSpecial")) <= set(AUTH_TOKEN_SPECIALS), token.urn
    value = _token(rec)
    assert value.isascii() and len(value) == token.input("length"), token.urn
    assert all(c.isalnum() or c in AUTH_TOKEN_SPECIALS for c in value), token.urn


def test_rnf_s_04_auth_token_is_stored_in_the_secret(rec: Recording) -> None:
    secret = _secret(rec)
    [version] = [v for v in rec.of_type(SECRET_VERSION) if v.parent == secret.parent]
    assert "secretString" in version.secret_inputs, version.urn
    stored = json.loads(_unwrap(version.input("secretString")))
    assert stored["authToken"] == _token(rec), version.urn


def test_rnf_s_04_cache_lives_in_every_data_subnet_only(rec: Recording) -> None:
    cache = _cache(rec)
    group = support.named(rec, SUBNET_GROUP, cache.input("subnetGroupName"))
    subnets = [rec.by_id("aws:ec2/subnet:Subnet", s) for s in group.input("subnetIds")]
    assert {s.input("tags.Tier") for s in subnets} == {"data"}, group.urn
    assert len({s.input("availabilityZone") for s in subnets}) == len(subnets), group.urn
    assert len(subnets) == len(rec.outputs["dataSubnetIds"]), group.urn


def test_rnf_s_04_engine_version_pinned_with_matching_family(rec: Recording) -> None:
    cache = _cache(rec)
    version = cache.input("engineVersion")
    assert cache.input("engine") == "valkey" and version in PARAMETER_FAMILIES, cache.urn
    group = support.named(rec, PARAMETER_GROUP, cache.input("parameterGroupName"))
    assert group.input("family") == f"valkey{version.split('.')[0]}", group.urn


def test_rnf_s_04_no_secret_value_in_stack_outputs(rec: Recording) -> None:
    token = _token(rec)
    exported = json.dumps(rec.outputs, default=str)
    assert token not in exported, "the AUTH token leaks into a stack output"
    for key in ("cacheSecretArn", "databaseSecretArn"):
        assert rec.outputs[key].startswith("arn:aws:secretsmanager:"), key
    assert not [k for k in rec.outputs if "token" in k.lower() or "password" in k.lower()]


def test_rnf_ed_01_cache_endpoints_are_exported(rec: Recording) -> None:
    for key in ("cachePrimaryEndpoint", "cacheReaderEndpoint"):
        assert rec.outputs[key].endswith(".cache.amazonaws.com"), key
    assert rec.outputs["cachePort"] == 6379
