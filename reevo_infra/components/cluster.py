"""The EKS cluster: control plane, access, IRSA, managed add-ons, nodes and a kubeconfig."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from reevo_infra import eks, iam
from reevo_infra.components.nodes import NodeGroupArgs, create_node_group
from reevo_infra.naming import child_name, tags

ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of the `Cluster` component. The component's name is also the EKS cluster name."""

    kubernetes_version: str
    """A minor version with a row in eks.ADDON_VERSIONS."""
    vpc_cidr: pulumi.Input[str]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    cluster_key_arn: pulumi.Input[str]
    """Envelope-encrypts Kubernetes secrets and encrypts node volumes."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    target_group_arn: pulumi.Input[str]
    instance_types: Sequence[str]
    architecture: str
    node_min_size: int
    node_desired_size: int
    node_max_size: int
    node_disk_gib: int
    region: str
    partition: str
    tags: Mapping[str, str]
    endpoint_public_access: bool = False
    """Off: the API is reachable only from inside the VPC. Prod must keep it off."""
    public_access_cidrs: Sequence[str] = ()
    """Where the public endpoint answers from, when it is on; config rejects 0.0.0.0/0."""
    admin_principal_arns: Sequence[str] = ()
    """IAM roles or users given cluster-admin through access entries. Defaults to none."""


class Cluster(pulumi.ComponentResource):
    """An EKS control plane in the private app subnets, and everything it needs to run.

    Creates the cluster IAM role, a KMS-encrypted control-plane log group, the cluster
    (secrets envelope-encrypted, API-only authentication, private endpoint, STANDARD support
    only), access entries for the configured admins, the IRSA OIDC provider with roles for
    the EBS CSI driver and the Cluster Autoscaler, pinned managed add-ons (the VPC CNI with
    network policy enforcement on), a managed node group, and a kubeconfig whose credentials
    come from `aws eks get-token`, for the stack's Kubernetes provider.
    """

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    autoscaler_role_arn: pulumi.Output[str]
    node_group_names: list[pulumi.Output[str]]
    addons: dict[str, aws.eks.Addon]
    """The managed add-ons by name; in-cluster installs wait on `coredns` (nodes and DNS up)."""
    kubeconfig: pulumi.Output[str]
    """Secret; its user runs `aws eks get-token`, so it carries no static credential."""

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:compute:Cluster", name, None, opts)
        self._name = name
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        versions = eks.ADDON_VERSIONS[args.kubernetes_version]

        role = self._cluster_role()

        # EKS would create this group itself, unencrypted and kept forever; creating it first
        # under the exact name EKS writes to sets the key and the retention (RNF-S-04).
        log_group = aws.cloudwatch.LogGroup(
            child_name(name, "logs"),
            name=eks.log_group_name(name),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=tags(args.tags, child_name(name, "logs")),
            opts=child,
        )

        cluster = aws.eks.Cluster(
            name,
            name=name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            # Extended support costs extra per cluster hour; STANDARD makes EKS upgrade instead.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.app_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=args.endpoint_public_access,
                public_access_cidrs=(
                    list(args.public_access_cidrs) if args.endpoint_public_access else None
                ),
            ),
            enabled_cluster_log_types=list(eks.CONTROL_PLANE_LOGS),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.cluster_key_arn),
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                # The identity running Pulumi installs the in-cluster platform through the
                # Kubernetes provider, so it keeps the admin entry EKS gives the creator.
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            tags=tags(args.tags, name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *role.policies]),
        )

        for i, principal in enumerate(args.admin_principal_arns):
            entry = aws.eks.AccessEntry(
                child_name(name, "admin", i),
                cluster_name=cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=tags(args.tags, child_name(name, "admin", i)),
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                child_name(name, "admin", i, "policy"),
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=ADMIN_POLICY.format(partition=args.partition),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=child,
            )

        issuer = cluster.identities.apply(_issuer)
        oidc = aws.iam.OpenIdConnectProvider(
            child_name(name, "oidc"),
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags(args.tags, child_name(name, "oidc")),
            opts=child,
        )

        ebs_role = self._irsa_role(
            "ebs-csi", oidc, issuer, "kube-system", eks.EBS_CSI_SERVICE_ACCOUNT
        )
        aws.iam.RolePolicyAttachment(
            child_name(name, "ebs-csi", "managed"),
            role=ebs_role.name,
            policy_arn=(
                f"arn:{args.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
            ),
            opts=child,
        )
        # Persistent volumes are encrypted with the cluster key, like the nodes' root volumes.
        aws.iam.RolePolicy(
            child_name(name, "ebs-csi", "kms"),
            role=ebs_role.id,
            policy=pulumi.Output.from_input(args.cluster_key_arn).apply(
                lambda arn: eks.kms_use_policy(arn, grants=True)
            ),
            opts=child,
        )

        autoscaler_role = self._irsa_role(
            "autoscaler", oidc, issuer, eks.AUTOSCALER_NAMESPACE, eks.AUTOSCALER_SERVICE_ACCOUNT
        )
        aws.iam.RolePolicy(
            child_name(name, "autoscaler", "scale"),
            role=autoscaler_role.id,
            policy=cluster.arn.apply(lambda arn: eks.autoscaler_policy(name, arn)),
            opts=child,
        )

        # Nodes boot with the VPC CNI add-on already configured (network policy agent on) and
        # kube-proxy in place; both are DaemonSets, so they are ACTIVE before any node exists.
        vpc_cni = self._addon(
            cluster,
            "vpc-cni",
            versions,
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
        )
        kube_proxy = self._addon(cluster, "kube-proxy", versions)

        nodes = create_node_group(
            self,
            child_name(name, "nodes"),
            NodeGroupArgs(
                cluster_name=name,
                kubernetes_version=args.kubernetes_version,
                subnet_ids=args.app_subnet_ids,
                node_security_group_id=cluster.vpc_config.cluster_security_group_id,
                vpc_cidr=args.vpc_cidr,
                volume_key_arn=args.cluster_key_arn,
                target_group_arn=args.target_group_arn,
                instance_types=args.instance_types,
                architecture=args.architecture,
                min_size=args.node_min_size,
                desired_size=args.node_desired_size,
                max_size=args.node_max_size,
                disk_gib=args.node_disk_gib,
                partition=args.partition,
                tags=args.tags,
                after=[cluster, vpc_cni, kube_proxy],
            ),
        )

        # Deployments: without nodes to schedule on, these add-ons never leave CREATING.
        coredns = self._addon(cluster, "coredns", versions, after=[nodes.group])
        ebs_csi = self._addon(
            cluster,
            "aws-ebs-csi-driver",
            versions,
            after=[nodes.group],
            service_account_role_arn=ebs_role.arn,
        )

        # Secret although it holds no credential: it names the endpoint and the CA, and a
        # secret keeps the Kubernetes provider's whole configuration out of plain state.
        kubeconfig: pulumi.Input[str] = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data
        ).apply(lambda v: eks.kubeconfig(v[0], v[1], v[2], args.region))
        self.kubeconfig = pulumi.Output.secret(kubeconfig)

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.oidc_provider_arn = oidc.arn
        self.oidc_provider_url = oidc.url
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.autoscaler_role_arn = autoscaler_role.arn
        self.node_group_names = [nodes.node_group_name]
        self.node_groups = [nodes.group]
        self.addons = {
            "vpc-cni": vpc_cni,
            "kube-proxy": kube_proxy,
            "coredns": coredns,
            "aws-ebs-csi-driver": ebs_csi,
        }
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_provider_url": self.oidc_provider_url,
                "cluster_security_group_id": self.cluster_security_group_id,
                "autoscaler_role_arn": self.autoscaler_role_arn,
                "node_group_names": self.node_group_names,
            }
        )

    def _cluster_role(self) -> _ClusterRole:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            child_name(name, "role"),
            assume_role_policy=iam.service_trust("eks.amazonaws.com", tag_session=True),
            tags=tags(args.tags, child_name(name, "role")),
            opts=child,
        )
        managed = aws.iam.RolePolicyAttachment(
            child_name(name, "role", "eks"),
            role=role.name,
            policy_arn=f"arn:{args.partition}:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        # The control plane wraps each secret's data key with the cluster key (RNF-S-01).
        kms = aws.iam.RolePolicy(
            child_name(name, "role", "kms"),
            role=role.id,
            policy=pulumi.Output.from_input(args.cluster_key_arn).apply(
                lambda arn: eks.kms_use_policy(arn, grants=True)
            ),
            opts=child,
        )
        return _ClusterRole(role.arn, [managed, kms])

    def _irsa_role(
        self,
        purpose: str,
        oidc: aws.iam.OpenIdConnectProvider,
        issuer: pulumi.Output[str],
        namespace: str,
        service_account: str,
    ) -> aws.iam.Role:
        role_name = child_name(self._name, purpose)
        return aws.iam.Role(
            role_name,
            assume_role_policy=pulumi.Output.all(oidc.arn, issuer).apply(
                lambda v: eks.irsa_trust_policy(v[0], v[1], namespace, service_account)
            ),
            tags=tags(self._args.tags, role_name),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _addon(
        self,
        cluster: aws.eks.Cluster,
        addon: str,
        versions: Mapping[str, str],
        *,
        after: Sequence[pulumi.Resource] = (),
        configuration_values: str | None = None,
        service_account_role_arn: pulumi.Input[str] | None = None,
    ) -> aws.eks.Addon:
        addon_name = child_name(self._name, addon)
        return aws.eks.Addon(
            addon_name,
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=versions[addon],
            configuration_values=configuration_values,
            service_account_role_arn=service_account_role_arn,
            # This program is the source of truth: take over the self-managed copies EKS
            # bootstraps, and revert hand edits on update.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags(self._args.tags, addon_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )


@dataclass(frozen=True)
class _ClusterRole:
    arn: pulumi.Output[str]
    policies: list[pulumi.Resource]


def _issuer(identities: Sequence[aws.eks.outputs.ClusterIdentity]) -> str:
    oidcs = identities[0].oidcs or [] if identities else []
    if not oidcs or not oidcs[0].issuer:
        raise ValueError("EKS reported no OIDC issuer for the cluster")
    return oidcs[0].issuer
