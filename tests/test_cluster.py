"""The EKS cluster and its nodes, read from what each stack registers."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest

from reevo_infra import config, eks, offline
from reevo_infra.components.ingress import NODE_PORT
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording, Registration

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")


def _node_groups(rec: Recording) -> list[Registration]:
    """The stack's managed node groups; a stack without one fails here, not vacuously."""
    groups = rec.of_type(NODE_GROUP)
    assert groups, "no managed node group registered"
    return groups


def _cluster(rec: Recording) -> Registration:
    return rec.one(CLUSTER)


def _key_arn(rec: Recording, purpose: str) -> str:
    return rec.one("aws:kms/key:Key", f"reevo-{rec.stack}-keys-{purpose}").state["arn"]


def _app_subnets(rec: Recording) -> list[Registration]:
    return [s for s in rec.of_type(SUBNET) if s.input("tags.Tier") == "app"]


def _addon(rec: Recording, addon: str) -> Registration:
    found = [a for a in rec.of_type(ADDON) if a.input("addonName") == addon]
    assert len(found) == 1, f"expected one {addon} add-on, found {len(found)}"
    return found[0]


def _node_group_subnets(rec: Recording, group: Registration) -> list[Registration]:
    return [rec.by_id(SUBNET, sid) for sid in group.input("subnetIds")]


def test_rnf_cf_01_node_group_spans_every_app_subnet(rec: Recording) -> None:
    app = {s.urn for s in _app_subnets(rec)}
    for group in _node_groups(rec):
        used = {s.urn for s in _node_group_subnets(rec, group)}
        assert used == app, f"{group.urn} spans {sorted(used)}, not every app subnet"


def test_rnf_cf_01_prod_node_minimum_covers_every_az(prod: Recording) -> None:
    for group in _node_groups(prod):
        zones = {s.input("availabilityZone") for s in _node_group_subnets(prod, group)}
        assert group.input("scalingConfig.minSize") >= len(zones) >= 3, group.urn


def test_rnf_ed_01_node_group_can_scale(rec: Recording) -> None:
    for group in _node_groups(rec):
        scaling = group.input("scalingConfig")
        assert scaling["minSize"] < scaling["maxSize"], group.urn
        assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"], group.urn
        # The autoscaler owns the desired size; Pulumi must not reset it.
        assert "scalingConfig.desiredSize" in group.options["ignoreChanges"], group.urn
        assert group.input("updateConfig.maxUnavailable") >= 1, group.urn


def test_rnf_ed_01_autoscaler_role_is_scoped_to_this_cluster(rec: Recording) -> None:
    name = _cluster(rec).input("name")
    tag = f"k8s.io/cluster-autoscaler/{name}"
    for group in _node_groups(rec):
        assert group.input("tags", {}).get(tag) == "owned", group.urn
        assert group.input("tags", {}).get("k8s.io/cluster-autoscaler/enabled") == "true"

    role = rec.one(ROLE, f"{name}-autoscaler")
    trust = json.loads(role.input("assumeRolePolicy"))["Statement"][0]
    subjects = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == [
        f"system:serviceaccount:{eks.AUTOSCALER_NAMESPACE}:{eks.AUTOSCALER_SERVICE_ACCOUNT}"
    ], role.urn

    policy = rec.one(ROLE_POLICY, f"{name}-autoscaler-scale")
    for statement in json.loads(policy.input("policy"))["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        writes = [a for a in actions if not a.split(":")[1].startswith(("Describe", "Get"))]
        if writes:
            condition = statement.get("Condition", {}).get("StringEquals", {})
            assert condition.get(f"aws:ResourceTag/{tag}") == "owned", (
                f"{policy.urn}: {writes} not limited to this cluster's groups"
            )
        if "eks:DescribeNodegroup" in actions:
            assert f":nodegroup/{name}/" in statement["Resource"], policy.urn


def test_rnf_s_01_secrets_are_envelope_encrypted_with_the_cluster_key(rec: Recording) -> None:
    cluster = _cluster(rec)
    assert cluster.input("encryptionConfig.resources") == ["secrets"], cluster.urn
    assert cluster.input("encryptionConfig.provider.keyArn") == _key_arn(rec, "cluster")


def test_rnf_s_01_node_volumes_are_encrypted_with_the_cluster_key(rec: Recording) -> None:
    for group in _node_groups(rec):
        template = rec.by_id(LAUNCH_TEMPLATE, group.input("launchTemplate.id"))
        volumes = template.input("blockDeviceMappings")
        assert volumes, f"{template.urn} sets no root volume"
        for volume in volumes:
            ebs = volume["ebs"]
            assert ebs["encrypted"] == "true", template.urn
            assert ebs["volumeType"] == "gp3", template.urn
            assert ebs["kmsKeyId"] == _key_arn(rec, "cluster"), template.urn


def test_rnf_s_01_control_plane_log_group_is_encrypted(rec: Recording) -> None:
    cluster = _cluster(rec)
    group = rec.one(LOG_GROUP, f"{cluster.name}-logs")
    # EKS writes to exactly this name; any other group would stay empty.
    assert group.input("name") == f"/aws/eks/{cluster.input('name')}/cluster", group.urn
    assert group.input("kmsKeyId") == _key_arn(rec, "logs"), group.urn
    # Created first, or EKS makes its own unencrypted, never-expiring group.
    assert group.urn in cluster.dependencies, cluster.urn


def test_rnf_s_04_prod_api_endpoint_is_private(prod: Recording) -> None:
    cluster = _cluster(prod)
    assert cluster.input("vpcConfig.endpointPublicAccess") is False, cluster.urn
    assert cluster.input("vpcConfig.endpointPrivateAccess") is True, cluster.urn


def test_rnf_s_04_public_endpoint_never_open_to_the_internet(rec: Recording) -> None:
    cluster = _cluster(rec)
    assert cluster.input("vpcConfig.endpointPrivateAccess") is True, cluster.urn
    if cluster.input("vpcConfig.endpointPublicAccess"):
        cidrs = cluster.input("vpcConfig.publicAccessCidrs") or []
        assert cidrs, f"{cluster.urn}: public endpoint without CIDRs means 0.0.0.0/0"
        for cidr in cidrs:
            assert ipaddress.ip_network(cidr).prefixlen > 0, f"{cluster.urn}: {cidr}"


def test_rnf_s_04_audit_logs_are_on_and_kept(rec: Recording) -> None:
    cluster = _cluster(rec)
    enabled = set(cluster.input("enabledClusterLogTypes"))
    assert {"api", "audit", "authenticator"} <= enabled, cluster.urn
    days = rec.one(LOG_GROUP, f"{cluster.name}-logs").input("retentionInDays")
    assert days and days > 0, f"{cluster.urn}: audit logs kept forever or not at all"
    if rec.stack == "prod":
        assert days >= 180, f"{cluster.urn}: prod keeps audit logs {days} days"


def test_rnf_s_04_nodes_only_in_private_app_subnets(rec: Recording) -> None:
    for group in _node_groups(rec):
        for subnet in _node_group_subnets(rec, group):
            assert subnet.input("tags.Tier") == "app", f"{group.urn} uses {subnet.urn}"
            assert subnet.input("mapPublicIpOnLaunch") is False, subnet.urn
    cluster = _cluster(rec)
    for sid in cluster.input("vpcConfig.subnetIds"):
        assert rec.by_id(SUBNET, sid).input("tags.Tier") == "app", cluster.urn


def test_rnf_s_04_nodes_require_imdsv2(rec: Recording) -> None:
    for group in _node_groups(rec):
        template = rec.by_id(LAUNCH_TEMPLATE, group.input("launchTemplate.id"))
        metadata = template.input("metadataOptions")
        assert metadata["httpTokens"] == "required", template.urn
        assert metadata["httpPutResponseHopLimit"] == 1, template.urn


def test_rnf_s_04_vpc_cni_enforces_network_policies(rec: Recording) -> None:
    cni = _addon(rec, "vpc-cni")
    values = json.loads(cni.input("configurationValues") or "{}")
    assert values.get("enableNetworkPolicy") == "true", cni.urn


def test_rnf_s_04_api_authentication_through_access_entries(rec: Recording) -> None:
    cluster = _cluster(rec)
    assert cluster.input("accessConfig.authenticationMode") == "API", cluster.urn


def test_cluster_stays_on_standard_support(rec: Recording) -> None:
    cluster = _cluster(rec)
    assert cluster.input("upgradePolicy.supportType") == "STANDARD", cluster.urn
    assert cluster.input("version") in eks.ADDON_VERSIONS, cluster.urn


@pytest.mark.parametrize("addon", ADDONS)
def test_addons_are_pinned_with_explicit_conflict_resolution(rec: Recording, addon: str) -> None:
    registered = _addon(rec, addon)
    version = registered.input("addonVersion")
    assert version and re.match(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$", version), registered.urn
    assert registered.input("resolveConflictsOnCreate") == "OVERWRITE", registered.urn
    assert registered.input("resolveConflictsOnUpdate") == "OVERWRITE", registered.urn
    if addon == "kube-proxy":
        assert version.startswith(f"v{_cluster(rec).input('version')}."), registered.urn


@pytest.mark.parametrize("addon", ["coredns", "aws-ebs-csi-driver"])
def test_deployment_addons_wait_for_the_node_group(rec: Recording, addon: str) -> None:
    registered = _addon(rec, addon)
    for group in _node_groups(rec):
        assert group.urn in registered.dependencies, f"{registered.urn} may hang without nodes"


def test_nodes_boot_after_the_network_policy_capable_cni(rec: Recording) -> None:
    cni = _addon(rec, "vpc-cni")
    for group in _node_groups(rec):
        assert cni.urn in group.dependencies, group.urn


def test_ebs_csi_driver_uses_its_own_irsa_role(rec: Recording) -> None:
    registered = _addon(rec, "aws-ebs-csi-driver")
    role = next(
        r
        for r in rec.of_type(ROLE)
        if r.state.get("arn") == registered.input("serviceAccountRoleArn")
    )
    trust = json.loads(role.input("assumeRolePolicy"))["Statement"][0]
    oidc = rec.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert trust["Principal"]["Federated"] == oidc.state["arn"], role.urn
    assert f"system:serviceaccount:kube-system:{eks.EBS_CSI_SERVICE_ACCOUNT}" in (
        trust["Condition"]["StringEquals"].values()
    ), role.urn


def test_kubernetes_provider_uses_a_secret_get_token_kubeconfig(rec: Recording) -> None:
    provider = rec.one(K8S_PROVIDER)
    assert "kubeconfig" in provider.secret_inputs, f"{provider.urn}: kubeconfig not secret"
    raw = provider.input("kubeconfig")
    document = json.loads(raw["value"] if isinstance(raw, dict) else raw)
    (user,) = document["users"]
    assert "token" not in user["user"], provider.urn
    command = [user["user"]["exec"]["command"], *user["user"]["exec"]["args"]]
    assert command[:3] == ["aws", "eks", "get-token"], provider.urn
    assert _cluster(rec).input("name") in command, provider.urn


def test_cluster_group_admits_only_the_node_port_and_the_api_from_the_vpc(
    rec: Recording,
) -> None:
    vpc_cidr = rec.one("aws:ec2/vpc:Vpc").input("cidrBlock")
    cluster_sg = _cluster(rec).state["vpcConfig"]["clusterSecurityGroupId"]
    rules = [
        r
        for r in rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.input("securityGroupId") == cluster_sg
    ]
    ports = sorted((r.input("fromPort"), r.input("toPort")) for r in rules)
    assert ports == [(443, 443), (NODE_PORT, NODE_PORT)], "the NLB and the deploy runner"
    for rule in rules:
        assert rule.input("cidrIpv4") == vpc_cidr, rule.urn


def test_in_cluster_objects_wait_for_networked_nodes_and_dns(rec: Recording) -> None:
    provider = rec.one("pulumi:providers:kubernetes")
    for addon in ("vpc-cni", "coredns"):
        assert _addon(rec, addon).urn in provider.dependencies, addon
    group = rec.one(NODE_GROUP)
    assert group.urn in rec.waits_for(provider.urn), "the provider must wait for nodes"


def test_node_group_is_registered_with_the_internal_nlb(rec: Recording) -> None:
    target_group = rec.one("aws:lb/targetGroup:TargetGroup")
    attachments = rec.of_type("aws:autoscaling/attachment:Attachment")
    assert {a.input("lbTargetGroupArn") for a in attachments} == {target_group.state["arn"]}
    for group in _node_groups(rec):
        asg = group.state["resources"][0]["autoscalingGroups"][0]["name"]
        assert asg in {a.input("autoscalingGroupName") for a in attachments}, group.urn


def test_admin_principals_get_cluster_admin_access_entries() -> None:
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    raw = offline.stack_config("dev")
    cluster_cfg = {**raw["reevo:cluster"], "adminPrincipalArns": [admin]}
    rec = offline.evaluate("dev", overrides={"reevo:cluster": cluster_cfg})
    entry = rec.one("aws:eks/accessEntry:AccessEntry")
    assert entry.input("principalArn") == admin, entry.urn
    association = rec.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association.input("policyArn").endswith(
        ":cluster-access-policy/AmazonEKSClusterAdminPolicy"
    ), association.urn
    assert association.input("accessScope.type") == "cluster", association.urn


def _raw(**cluster: object) -> dict[str, object]:
    return {
        "environment": "dev",
        "owner": "o",
        "costCenter": "c",
        "dataClassification": "internal",
        "network": {"cidr": "10.0.0.0/16"},
        "cluster": cluster,
    }


def test_config_rejects_instance_types_of_the_other_architecture() -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(_raw(architecture="arm64", instanceTypes=["m7i.large"]))
    assert "reevo:cluster.instanceTypes" in str(err.value)
    assert config.parse(_raw(architecture="x86_64", instanceTypes=["m7i.large"]))


def test_config_rejects_a_kubernetes_version_without_pinned_addons() -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(_raw(version="1.29"))
    assert "reevo:cluster.version" in str(err.value)


@pytest.mark.parametrize(
    ("instance_type", "arm"),
    [
        ("m7g.large", True),
        ("t4g.large", True),
        ("c7gn.xlarge", True),
        ("r8gd.large", True),
        ("g5g.xlarge", True),
        ("a1.large", True),
        ("m7i.large", False),
        ("m6a.large", False),
        ("t3.medium", False),
        ("g5.xlarge", False),
        ("c5n.large", False),
        ("m7i-flex.large", False),
    ],
)
def test_graviton_detection(instance_type: str, arm: bool) -> None:
    assert eks.is_graviton(instance_type) is arm
