"""Credentials reach the services through the External Secrets Operator, read as registered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from reevo_infra import charts, config, offline, rules
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording, Registration
from tests import support

SYNC = "reevo:platform:SecretsSync"
RELEASE = "kubernetes:helm.sh/v3:Release"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET_LITERAL = "kubernetes:core/v1:Secret"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SM_SECRET = "aws:secretsmanager/secret:Secret"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PINNED = re.compile(r"^\d+\.\d+\.\d+$")
CREDENTIAL = re.compile(r"PASSWORD|TOKEN|SECRET|CREDENTIAL|API_KEY|_USER$", re.IGNORECASE)
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _sync(rec: Recording) -> Registration:
    return rec.one(SYNC)


def _child(rec: Recording, typ: str) -> list[Registration]:
    return [r for r in rec.children(_sync(rec).urn) if r.type == typ]


def _release(rec: Recording) -> Registration:
    found = [r for r in rec.of_type(RELEASE) if r.input("chart") == "external-secrets"]
    assert len(found) == 1, f"{rec.stack}: expected one external-secrets release, found {found}"
    return found[0]


def _operator_role(rec: Recording) -> Registration:
    release = _release(rec)
    arn = release.input("values.serviceAccount.annotations", {}).get("eks.amazonaws.com/role-arn")
    found = [r for r in rec.of_type(ROLE) if r.state.get("arn") == arn]
    assert len(found) == 1, f"{release.urn}: service account role {arn!r} is not registered"
    return found[0]


def _statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _database_secret_arn(rec: Recording) -> str:
    instance = rec.one("aws:rds/instance:Instance")
    return str(instance.state["masterUserSecrets"][0]["secretArn"])


def _cache_secret_arn(rec: Recording) -> str:
    [cache] = rec.of_type("reevo:data:Cache")
    [secret] = [s for s in rec.children(cache.urn) if s.type == SM_SECRET]
    return str(secret.state["arn"])


def _external_secrets(rec: Recording) -> dict[tuple[str, str], Registration]:
    """ExternalSecrets by (namespace, target Secret name)."""
    found = {}
    for es in rec.of_type(EXTERNAL_SECRET):
        target = es.input("spec.target.name") or es.input("metadata.name")
        found[(es.input("metadata.namespace"), target)] = es
    assert found, f"{rec.stack}: no ExternalSecrets"
    return found


def _env(rec: Recording) -> Iterator[tuple[Registration, str, dict[str, Any]]]:
    """(Deployment, its namespace, env var) for every container env var of every service."""
    for d in rec.of_type(DEPLOYMENT):
        for c in d.input("spec.template.spec.containers") or []:
            for env in c.get("env") or []:
                yield d, d.input("metadata.namespace"), env


def _duration_seconds(text: str) -> int:
    match = DURATION.match(text)
    assert match and any(match.groups()), f"not a duration: {text!r}"
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def test_rnf_s_04_operator_release_is_pinned_and_uses_the_kube_provider(rec: Recording) -> None:
    release = _release(rec)
    cluster = rec.one("aws:eks/cluster:Cluster")
    kube = rec.one("pulumi:providers:kubernetes")
    assert release.input("repositoryOpts.repo") == charts.EXTERNAL_SECRETS_REPO, release.urn
    version = str(release.input("version"))
    assert PINNED.match(version), f"{release.urn}: chart version {version!r} not pinned"
    expected = charts.EXTERNAL_SECRETS_CHARTS[cluster.input("version")]
    assert version == expected, f"{release.urn}: {version} is not the chart tested on the cluster"
    assert release.provider_urn == kube.urn, f"{release.urn}: provider {release.provider!r}"
    assert release.input("namespace") not in (rec.outputs["appNamespace"], "kube-system")


def test_rnf_s_04_operator_role_reads_exactly_the_database_and_cache_secrets(
    rec: Recording,
) -> None:
    role = _operator_role(rec)
    attached = [a for a in rec.of_type(ATTACHMENT) if a.input("role") == role.id]
    assert not attached, f"{role.urn}: managed policies attached: {attached}"
    policies = [p for p in rec.of_type(ROLE_POLICY) if p.input("role") == role.id]
    assert policies, f"{role.urn}: no inline policy"
    data_key = support.key(rec, "data")
    secret_arns: set[str] = set()
    for p in policies:
        for st in _statements(p.input("policy")):
            assert st["Effect"] == "Allow" and "NotResource" not in st, p.urn
            actions, resources = set(_as_list(st["Action"])), _as_list(st["Resource"])
            assert "*" not in resources, f"{p.urn}: wildcard resource in {st}"
            if actions == {"kms:Decrypt"}:
                assert resources == [data_key.state["arn"]], f"{p.urn}: decrypts {resources}"
                via = st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
                assert via == f"secretsmanager.{rec.outputs['region']}.amazonaws.com", p.urn
            else:
                allowed = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
                assert actions <= allowed, f"{p.urn}: grants {actions - allowed}"
                secret_arns.update(resources)
    assert secret_arns == {_database_secret_arn(rec), _cache_secret_arn(rec)}, role.urn


def test_rnf_s_04_operator_role_trusts_only_the_operator_service_account(
    rec: Recording,
) -> None:
    release, role = _release(rec), _operator_role(rec)
    oidc = rec.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    account = release.input("values.serviceAccount.name")
    [st] = _statements(role.input("assumeRolePolicy"))
    assert st["Principal"] == {"Federated": oidc.state["arn"]}, role.urn
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity", role.urn
    host = str(oidc.state["url"]).removeprefix("https://")
    assert st["Condition"] == {
        "StringEquals": {
            f"{host}:sub": f"system:serviceaccount:{release.input('namespace')}:{account}",
            f"{host}:aud": "sts.amazonaws.com",
        }
    }, f"{role.urn}: trusts {st['Condition']}"


def test_rnf_s_04_store_reads_secrets_manager_in_the_stack_region_for_the_app_only(
    rec: Recording,
) -> None:
    [store] = rec.of_type(STORE)
    aws = store.input("spec.provider.aws") or {}
    assert aws == {"service": "SecretsManager", "region": rec.outputs["region"]}, store.urn
    assert store.input("spec.conditions") == [{"namespaces": [rec.outputs["appNamespace"]]}], (
        f"{store.urn}: serves namespaces beyond the app's"
    )
    for es in rec.of_type(EXTERNAL_SECRET):
        ref = es.input("spec.secretStoreRef") or {}
        assert ref == {"kind": "ClusterSecretStore", "name": store.input("metadata.name")}, es.urn


def test_rnf_s_04_credentials_come_from_the_database_and_cache_secrets(rec: Recording) -> None:
    found = _external_secrets(rec)
    ns = rec.outputs["appNamespace"]
    expected = {
        "database-credentials": {
            "username": (_database_secret_arn(rec), "username"),
            "password": (_database_secret_arn(rec), "password"),
        },
        # `authToken` is the key the cache component writes into its secret's JSON.
        "cache-auth": {"auth-token": (_cache_secret_arn(rec), "authToken")},
    }
    for name, keys in expected.items():
        es = found.get((ns, name))
        assert es is not None, f"{rec.stack}: no ExternalSecret produces {ns}/{name}"
        data = {
            d["secretKey"]: (d["remoteRef"]["key"], d["remoteRef"].get("property"))
            for d in es.input("spec.data") or []
        }
        assert data == keys, f"{es.urn}: maps {data}"
        assert not es.input("spec.target.template"), f"{es.urn}: templates values in"


def test_rnf_s_04_rotated_credentials_propagate_and_are_never_left_stale(
    rec: Recording,
) -> None:
    for es in _external_secrets(rec).values():
        interval = _duration_seconds(str(es.input("spec.refreshInterval", "")))
        assert 0 < interval <= 3600, f"{es.urn}: refresh every {interval}s"
        assert es.input("spec.target.creationPolicy") == "Owner", es.urn


def test_rnf_s_04_every_credential_env_var_is_a_reference_to_a_synced_secret(
    rec: Recording,
) -> None:
    produced = {
        key: (ns, name)
        for (ns, name), es in _external_secrets(rec).items()
        for key in [(ns, name, d["secretKey"]) for d in es.input("spec.data") or []]
    }
    refs = 0
    for d, ns, env in _env(rec):
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if CREDENTIAL.search(env["name"]):
            assert "value" not in env and ref, f"{d.urn}: {env['name']} is not a secretKeyRef"
        if ref:
            refs += 1
            assert (ns, ref["name"], ref["key"]) in produced, (
                f"{d.urn}: {env['name']} reads {ref}, which no ExternalSecret produces"
            )
    assert refs, f"{rec.stack}: no Deployment reads a credential"


def test_rnf_s_04_services_using_a_store_get_its_credentials(rec: Recording) -> None:
    needs = {
        "DATABASE_HOST": {"DATABASE_USER", "DATABASE_PASSWORD"},
        "REDIS_HOST": {"REDIS_AUTH_TOKEN"},
    }
    for d in rec.of_type(DEPLOYMENT):
        [cm] = [c for c in rec.children(d.parent) if c.type == CONFIG_MAP]
        env = {
            e["name"]
            for c in d.input("spec.template.spec.containers") or []
            for e in c.get("env") or []
            if (e.get("valueFrom") or {}).get("secretKeyRef")
        }
        for host, credentials in needs.items():
            if host in (cm.input("data") or {}):
                assert credentials <= env, f"{d.urn}: {host} set but {credentials - env} missing"


def test_rnf_s_04_no_credential_is_registered_as_a_secret_literal(rec: Recording) -> None:
    for r in rec.of_type(SECRET_LITERAL):
        assert not r.input("data") and not r.input("stringData"), f"{r.urn}: Secret literal"
    token = rec.one("random:index/randomPassword:RandomPassword").state["result"]
    for r in rec:
        if r.type.startswith("kubernetes:"):
            assert token not in json.dumps(r.inputs, default=str), f"{r.urn}: holds the token"


def test_custom_resources_use_the_kube_provider_and_wait_for_the_operator(
    rec: Recording,
) -> None:
    release = _release(rec)
    kube = rec.one("pulumi:providers:kubernetes")
    [store] = rec.of_type(STORE)
    for r in [store, *rec.of_type(EXTERNAL_SECRET)]:
        assert r.provider_urn == kube.urn, f"{r.urn}: provider {r.provider!r}"
        assert release.urn in r.dependencies, f"{r.urn}: may be created before the CRDs"
    for es in rec.of_type(EXTERNAL_SECRET):
        assert store.urn in es.dependencies, f"{es.urn}: may be created before its store"


def test_deployments_that_read_credentials_wait_for_their_external_secrets(
    rec: Recording,
) -> None:
    for d, _, env in _env(rec):
        if (env.get("valueFrom") or {}).get("secretKeyRef"):
            waits = {rec.by_urn(u).type for u in rec.waits_for(d.urn)}
            assert EXTERNAL_SECRET in waits, f"{d.urn}: may start before its Secret exists"


def test_data_tier_waits_for_neither_the_cluster_nor_the_operator(rec: Recording) -> None:
    """The credentials flow by ARN into the cluster; the data tier never waits on it."""
    cluster = rec.one("reevo:compute:Cluster")
    blocked = {r.urn for r in rec if r.parent in (cluster.urn, _sync(rec).urn)}
    blocked |= {cluster.urn, _sync(rec).urn, rec.one("pulumi:providers:kubernetes").urn}
    components = rec.of_type("reevo:data:Database", "reevo:data:Cache")
    assert len(components) == 2, f"{rec.stack}: {components}"
    for component in components:
        for r in rec.children(component.urn):
            if r.type == INGRESS_RULE:
                continue  # the rules admitting the cluster's group are meant to wait for it
            waits = rec.waits_for(r.urn) & blocked
            assert not waits, f"{r.urn} waits for {sorted(waits)}"


def test_rnf_s_04_operator_opens_nothing_in_the_app_namespace(rec: Recording) -> None:
    assert not _child(rec, POLICY), f"{rec.stack}: the operator adds NetworkPolicies"
    operator_ns = _release(rec).input("namespace")
    for p in rec.of_type(POLICY):
        assert operator_ns not in json.dumps(p.inputs, default=str), f"{p.urn} admits ESO"


def test_rnf_cf_01_prod_operator_is_redundant(prod: Recording) -> None:
    release = _release(prod)
    assert release.input("values.replicaCount", 1) >= 2, release.urn
    assert release.input("values.leaderElect") is True, f"{release.urn}: no leader election"
    assert release.input("values.podDisruptionBudget.enabled") is True, release.urn
    assert release.input("values.webhook.replicaCount", 1) >= 2, release.urn


def test_rnf_s_04_config_rejects_a_version_without_a_pinned_operator_chart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "EXTERNAL_SECRETS_CHARTS", {})
    raw = config.raw_from_flat(offline.stack_config("dev"))
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    assert "reevo:cluster.version" in str(err.value), str(err.value)
    assert "External Secrets Operator" in str(err.value), str(err.value)
