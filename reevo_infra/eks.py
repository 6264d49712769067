"""EKS facts and documents: addon versions, AMI types, IAM policies, kubeconfig (no Pulumi here)."""

from __future__ import annotations

import json
import re
from typing import Any

# EKS add-on versions pinned per Kubernetes minor version, so an upgrade is a reviewed change
# rather than whatever is newest on the day of `pulumi up`. Sources: the version tables of the
# EKS user guide (managing-vpc-cni, managing-kube-proxy, managing-coredns) for 1.35; the EBS
# CSI driver build is the one public 1.35 clusters pin (its add-on spans many minor versions).
ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.35": {
        "vpc-cni": "v1.21.1-eksbuild.7",
        "kube-proxy": "v1.35.3-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.4",
        "aws-ebs-csi-driver": "v1.56.0-eksbuild.1",
    },
}

AMI_TYPES = {"arm64": "AL2023_ARM_64_STANDARD", "x86_64": "AL2023_x86_64_STANDARD"}

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")

AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
"""The service account the cluster-autoscaler chart must use; its IAM role trusts only this."""

EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
"""The name the aws-ebs-csi-driver add-on gives its controller, in kube-system."""

_FAMILY = re.compile(r"^[a-z]+-?\d+([a-z-]*)\.")


def is_graviton(instance_type: str) -> bool:
    """True for Arm (Graviton) instance types: the family's suffix after its generation has 'g'.

    m7g, t4g, c7gn, r8gd, g5g (and the first Graviton, a1) are Arm; m7i, m6a, t3, g5, c5n
    are x86_64.
    """
    if instance_type.startswith("a1."):
        return True
    match = _FAMILY.match(instance_type)
    return match is not None and "g" in match[1]


def log_group_name(cluster_name: str) -> str:
    """The log group EKS writes control-plane logs to; pre-creating it sets key and retention."""
    return f"/aws/eks/{cluster_name}/cluster"


def irsa_trust_policy(
    provider_arn: str, issuer_url: str, namespace: str, service_account: str
) -> str:
    """A role trust policy letting only one Kubernetes service account assume the role."""
    host = issuer_url.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def autoscaler_policy(cluster_name: str, cluster_arn: str) -> str:
    """Cluster Autoscaler permissions: it may resize only Auto Scaling groups of this cluster.

    The write actions are conditioned on the tag EKS puts on every managed node group's Auto
    Scaling group; the describe actions support no resource scoping in IAM.
    """
    nodegroups = cluster_arn.replace(":cluster/", ":nodegroup/", 1) + "/*/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ScaleOnlyThisClustersGroups",
            "Effect": "Allow",
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                }
            },
        },
        {
            "Sid": "DiscoverGroups",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            "Resource": "*",
        },
        {
            "Sid": "DescribeThisClustersNodegroups",
            "Effect": "Allow",
            "Action": "eks:DescribeNodegroup",
            "Resource": nodegroups,
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def kms_use_policy(key_arn: str, *, grants: bool) -> str:
    """Use of one KMS key; `grants` adds the grant calls AWS services make on a caller's behalf."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "UseKey",
            "Effect": "Allow",
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "Resource": key_arn,
        }
    ]
    if grants:
        statements.append(
            {
                "Sid": "GrantsForAwsResources",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def secrets_reader_policy(secret_arns: list[str], key_arn: str, region: str) -> str:
    """Read exactly the given Secrets Manager secrets, and decrypt them only through the service.

    The `kms:ViaService` condition keeps the key from decrypting anything handed to KMS
    directly: the role can open these secrets' data keys and nothing else encrypted with it.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheseSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": sorted(secret_arns),
        },
        {
            "Sid": "DecryptThroughSecretsManager",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
            },
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig whose user fetches a short-lived token from `aws eks get-token` per call."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": [
                "eks",
                "get-token",
                "--cluster-name",
                cluster_name,
                "--region",
                region,
                "--output",
                "json",
            ],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": cluster_name, "user": user}],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "current-context": cluster_name,
        },
        sort_keys=True,
    )
