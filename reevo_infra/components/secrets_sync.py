"""Database and cache credentials, synced from Secrets Manager into the app namespace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from reevo_infra import charts, eks, kube_specs
from reevo_infra.components import helm
from reevo_infra.naming import child_name, tags

OPERATOR_NAMESPACE = "external-secrets"
SERVICE_ACCOUNT = "external-secrets"
"""The operator controller's service account; its IAM role trusts exactly this one."""
DATABASE_SECRET = "database-credentials"
"""Kubernetes Secret with keys `username` and `password`, from the RDS-managed secret."""
CACHE_SECRET = "cache-auth"
"""Kubernetes Secret with key `auth-token`, from the cache's AUTH-token secret."""
STORE = "aws-secrets-manager"
API_VERSION = "external-secrets.io/v1"
_WAIT_READY = {"pulumi.com/waitFor": "condition=Ready"}
"""Pulumi waits for the object's Ready condition: the store reached AWS, the Secret synced."""
REFRESH_INTERVAL = "15m"
"""How soon a rotated value reaches the Kubernetes Secret."""

_CONTROLLER_PODS = {
    "app.kubernetes.io/name": "external-secrets",
    "app.kubernetes.io/instance": "external-secrets",
}


@dataclass(frozen=True)
class SecretsSyncArgs:
    """Inputs of the `SecretsSync` component."""

    kube_provider: k8s.Provider
    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    """The cluster's IRSA issuer; the operator's role trusts only its service account there."""
    database_secret_arn: pulumi.Input[str]
    """The RDS-managed master-user secret (JSON with `username` and `password`)."""
    cache_secret_arn: pulumi.Input[str]
    """The cache's secret (JSON with `authToken`)."""
    data_key_arn: pulumi.Input[str]
    """The customer KMS key both secrets are encrypted with."""
    app_namespace: pulumi.Input[str]
    """Where the services run: the only namespace the store serves and the Secrets land in."""
    region: str
    kubernetes_version: str
    """The cluster's minor version; picks the External Secrets Operator chart."""
    tags: Mapping[str, str]
    high_availability: bool = False
    """Two controller and webhook replicas with leader election and a PodDisruptionBudget."""


class SecretsSync(pulumi.ComponentResource):
    """The External Secrets Operator, and the credentials it keeps in step with Secrets Manager.

    Creates the operator's namespace (baseline Pod Security enforced, restricted audited), an
    IAM role for its service account (IRSA) that may only read the database and cache
    secrets and decrypt them through Secrets Manager, the operator as a pinned Helm release,
    a cluster store for Secrets Manager in the stack's region that serves only the app
    namespace, and one ExternalSecret per credential. Values pass from Secrets Manager to
    Kubernetes Secrets inside the cluster: never through config, Pulumi state or a pod spec,
    and a rotated password follows within the refresh interval. The store and the
    ExternalSecrets are provider-neutral objects: another cloud changes only the store.
    """

    database_secret: pulumi.Output[str]
    """Name of the database Secret, known once its ExternalSecret exists."""
    cache_secret: pulumi.Output[str]
    """Name of the cache Secret, known once its ExternalSecret exists."""
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecretsSyncArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:platform:SecretsSync", name, None, opts)
        if args.kubernetes_version not in charts.EXTERNAL_SECRETS_CHARTS:
            raise ValueError(
                f"no External Secrets Operator chart pinned for {args.kubernetes_version}"
            )
        self._name = name
        self._args = args
        kube = pulumi.ResourceOptions(parent=self, provider=args.kube_provider)

        role = self._role()

        namespace = k8s.core.v1.Namespace(
            child_name(name, "ns"),
            metadata=ObjectMetaArgs(
                name=OPERATOR_NAMESPACE,
                labels={
                    # A third-party chart: enforce baseline so an upgrade cannot wedge it.
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
            opts=kube,
        )

        release = helm.release(
            child_name(name, "operator"),
            name="external-secrets",
            chart="external-secrets",
            version=charts.EXTERNAL_SECRETS_CHARTS[args.kubernetes_version],
            repo=charts.EXTERNAL_SECRETS_REPO,
            namespace=namespace.metadata.name,
            values=self._values(role.arn),
            opts=kube,
        )

        # The custom resources need the chart's CRDs and its validating webhook up first.
        after_release = pulumi.ResourceOptions(
            parent=self, provider=args.kube_provider, depends_on=[release]
        )
        store = CustomResource(
            child_name(name, "store"),
            api_version=API_VERSION,
            kind="ClusterSecretStore",
            metadata=ObjectMetaArgs(name=STORE, annotations=_WAIT_READY),
            spec={
                "conditions": [{"namespaces": [args.app_namespace]}],
                # No auth block: the controller uses its own IRSA credentials.
                "provider": {"aws": {"service": "SecretsManager", "region": args.region}},
            },
            opts=after_release,
        )

        after_store = pulumi.ResourceOptions(
            parent=self, provider=args.kube_provider, depends_on=[release, store]
        )
        database = self._external_secret(
            "database",
            DATABASE_SECRET,
            args.database_secret_arn,
            {"username": "username", "password": "password"},
            after_store,
        )
        cache = self._external_secret(
            "cache", CACHE_SECRET, args.cache_secret_arn, {"auth-token": "authToken"}, after_store
        )

        # The names resolve once the Secrets exist, so pods that mount them wait for that.
        self.database_secret = database.id.apply(lambda _: DATABASE_SECRET)
        self.cache_secret = cache.id.apply(lambda _: CACHE_SECRET)
        self.role_arn = role.arn
        self.register_outputs(
            {
                "database_secret": self.database_secret,
                "cache_secret": self.cache_secret,
                "role_arn": self.role_arn,
            }
        )

    def _role(self) -> aws.iam.Role:
        args = self._args
        child = pulumi.ResourceOptions(parent=self)
        role_name = child_name(self._name, "role")
        role = aws.iam.Role(
            role_name,
            assume_role_policy=pulumi.Output.all(
                args.oidc_provider_arn, args.oidc_provider_url
            ).apply(
                lambda v: eks.irsa_trust_policy(v[0], v[1], OPERATOR_NAMESPACE, SERVICE_ACCOUNT)
            ),
            tags=tags(args.tags, role_name),
            opts=child,
        )
        aws.iam.RolePolicy(
            child_name(role_name, "read"),
            role=role.id,
            policy=pulumi.Output.all(
                args.database_secret_arn, args.cache_secret_arn, args.data_key_arn
            ).apply(lambda v: eks.secrets_reader_policy([v[0], v[1]], v[2], args.region)),
            opts=child,
        )
        return role

    def _values(self, role_arn: pulumi.Input[str]) -> dict[str, Any]:
        ha = self._args.high_availability
        values: dict[str, Any] = {
            "installCRDs": True,
            "replicaCount": 2 if ha else 1,
            # Two controllers reconciling the same objects would race; one leads.
            "leaderElect": ha,
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            },
            "webhook": {"replicaCount": 2 if ha else 1},
        }
        if ha:
            values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
            values["topologySpreadConstraints"] = [
                kube_specs.zone_spread(_CONTROLLER_PODS, "ScheduleAnyway")
            ]
        return values

    def _external_secret(
        self,
        role: str,
        target: str,
        secret_arn: pulumi.Input[str],
        keys: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> CustomResource:
        """An ExternalSecret copying JSON properties of one secret into Secret keys."""
        return CustomResource(
            child_name(self._name, role),
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata=ObjectMetaArgs(
                name=target, namespace=self._args.app_namespace, annotations=_WAIT_READY
            ),
            spec={
                "refreshInterval": REFRESH_INTERVAL,
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": STORE},
                # Owner: the Secret is deleted with its ExternalSecret, never left stale.
                "target": {"name": target, "creationPolicy": "Owner"},
                "data": [
                    {"secretKey": key, "remoteRef": {"key": secret_arn, "property": prop}}
                    for key, prop in keys.items()
                ],
            },
            opts=opts,
        )
