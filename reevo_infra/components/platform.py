"""The platform inside the cluster: autoscalers, the ingress controller, the app namespace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    LimitRangeItemArgs,
    LimitRangeSpecArgs,
    ResourceQuotaSpecArgs,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from reevo_infra import charts, kube_specs
from reevo_infra.components import helm
from reevo_infra.components.ingress import NODE_PORT
from reevo_infra.naming import child_name

SYSTEM_NAMESPACE = kube_specs.SYSTEM_NAMESPACE
INGRESS_NAMESPACE = "traefik"
INGRESS_RELEASE = "traefik"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
"""The autoscaler's service account in kube-system; its IAM role must trust exactly this."""
STORAGE_CLASS = "encrypted-gp3"
"""The cluster's default StorageClass: every claim without a class gets a KMS-encrypted volume."""
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"

# The labels the Traefik chart puts on its pods: the chart name, and the release name joined
# to its namespace as the instance.
_CONTROLLER_PODS = {
    "app.kubernetes.io/name": "traefik",
    "app.kubernetes.io/instance": f"{INGRESS_RELEASE}-{INGRESS_NAMESPACE}",
}


@dataclass(frozen=True)
class PlatformArgs:
    """Inputs of the `Platform` component."""

    kube_provider: k8s.Provider
    cluster_name: pulumi.Input[str]
    autoscaler_role_arn: pulumi.Input[str]
    """IAM role (IRSA) the autoscaler assumes, scoped to this cluster's node groups."""
    volume_key_arn: pulumi.Input[str]
    """KMS key for persistent volumes (the cluster key, which the EBS CSI driver may use)."""
    region: str
    kubernetes_version: str
    """The cluster's minor version; picks the matching cluster-autoscaler chart."""
    data_subnet_cidrs: Sequence[str]
    """Where the database and Redis live; the only destinations of pod egress on their ports."""
    namespace: str
    quota: Mapping[str, str]
    """ResourceQuota `hard` for the application namespace."""
    container_max: Mapping[str, str]
    """LimitRange ceiling for one container in the application namespace."""
    high_availability: bool = False
    """Two replicas, spread over zones, with a PodDisruptionBudget for each add-on (prod)."""
    retain_volumes: bool = False
    """Keep a persistent volume's EBS volume when its claim is deleted (prod)."""


class Platform(pulumi.ComponentResource):
    """Cluster add-ons as Helm releases, and the namespace the services run in.

    Installs cluster-autoscaler (IRSA role, auto-discovery by cluster name), metrics-server
    (for the HorizontalPodAutoscalers) and Traefik, serving plain Ingress objects, behind a
    fixed NodePort that the internal NLB forwards to. The default StorageClass encrypts every
    persistent volume with the given KMS key (RNF-S-01). The application namespace enforces
    the `restricted` Pod Security Standard, denies all traffic by default and allows only
    DNS, the ingress controller in, the data tier's ports out and HTTPS out from the pods
    labelled for internet egress; a quota and a LimitRange bound it.
    Every Kubernetes object goes through the given provider, never an ambient kubeconfig.
    """

    namespace: pulumi.Output[str]
    ingress_namespace: pulumi.Output[str]
    ingress_class: pulumi.Output[str]

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reevo:platform:Platform", name, None, opts)
        if args.kubernetes_version not in charts.CLUSTER_AUTOSCALER_CHARTS:
            raise ValueError(f"no cluster-autoscaler chart pinned for {args.kubernetes_version}")
        if args.kubernetes_version not in charts.TRAEFIK_CHARTS:
            raise ValueError(f"no Traefik chart pinned for {args.kubernetes_version}")
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.kube_provider)

        self._autoscaler()
        self._metrics_server()
        self._storage_class()
        ingress_ns = self._namespace(
            "ingress-ns",
            INGRESS_NAMESPACE,
            # The chart's pods are third-party specs we do not harden ourselves: enforce
            # baseline so an upgrade cannot brick ingress, and audit/warn on restricted.
            enforce="baseline",
        )
        controller = self._ingress_controller(ingress_ns)

        app_ns = self._namespace("app-ns", args.namespace, enforce="restricted")
        self._network_policies(app_ns)
        self._limits(app_ns)

        self.namespace = app_ns.metadata.name
        self.ingress_namespace = ingress_ns.metadata.name
        # The release creates the IngressClass, so whoever uses the class name waits for it.
        self.ingress_class = controller.status.apply(lambda _: charts.INGRESS_CLASS)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "ingress_namespace": self.ingress_namespace,
                "ingress_class": self.ingress_class,
            }
        )

    def _release(
        self,
        role: str,
        chart: str,
        version: str,
        repo: str,
        namespace: pulumi.Input[str],
        values: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> k8s.helm.v3.Release:
        return helm.release(
            child_name(self._name, role),
            name=role,
            chart=chart,
            version=version,
            repo=repo,
            namespace=namespace,
            values=values,
            opts=pulumi.ResourceOptions.merge(self._child, opts),
        )

    def _autoscaler(self) -> k8s.helm.v3.Release:
        args = self._args
        return self._release(
            "cluster-autoscaler",
            "cluster-autoscaler",
            charts.CLUSTER_AUTOSCALER_CHARTS[args.kubernetes_version],
            charts.AUTOSCALER_REPO,
            SYSTEM_NAMESPACE,
            {
                "cloudProvider": "aws",
                "awsRegion": args.region,
                # Managed node groups tag their Auto Scaling groups with the cluster name,
                # which is what auto-discovery matches.
                "autoDiscovery": {"clusterName": args.cluster_name},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": AUTOSCALER_SERVICE_ACCOUNT,
                        "annotations": {"eks.amazonaws.com/role-arn": args.autoscaler_role_arn},
                    }
                },
                "extraArgs": {
                    "balance-similar-node-groups": True,
                    "expander": "least-waste",
                    "skip-nodes-with-system-pods": False,
                },
                # Evicting the autoscaler mid scale-down would strand the nodes it cordoned.
                "podAnnotations": {
                    "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
                },
            },
        )

    def _metrics_server(self) -> k8s.helm.v3.Release:
        ha = self._args.high_availability
        labels = {"app.kubernetes.io/name": "metrics-server"}
        values: dict[str, Any] = {"replicas": 2 if ha else 1}
        if ha:
            values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
            values["topologySpreadConstraints"] = [kube_specs.zone_spread(labels, "ScheduleAnyway")]
        return self._release(
            "metrics-server",
            "metrics-server",
            charts.METRICS_SERVER_CHART,
            charts.METRICS_SERVER_REPO,
            SYSTEM_NAMESPACE,
            values,
        )

    def _ingress_controller(self, namespace: k8s.core.v1.Namespace) -> k8s.helm.v3.Release:
        ha = self._args.high_availability
        values: dict[str, Any] = {
            "deployment": {"replicas": 2 if ha else 1},
            "ingressClass": {
                "enabled": True,
                "isDefaultClass": False,
                "name": charts.INGRESS_CLASS,
            },
            # Workloads publish plain Ingress objects only (RNF-P-01); the IngressRoute CRDs
            # would be a second, Traefik-only way in.
            "providers": {
                "kubernetesIngress": {"enabled": True},
                "kubernetesCRD": {"enabled": False},
            },
            # The internal NLB targets every node on this fixed port; TLS ends at the API
            # Gateway, so an HTTPS node port would be an unused opening.
            "service": {"spec": {"type": "NodePort"}},
            "ports": {
                "web": {"nodePort": NODE_PORT},
                "websecure": {"expose": {"default": False}},
            },
            # Headers are dropped by default; Authorization is named so that no later
            # default change can put bearer tokens in the logs (LGPD, RNF-S-04).
            "log": {"format": "json"},
            "accessLog": {
                "enabled": True,
                "format": "json",
                "fields": {
                    "headers": {"defaultMode": "drop", "names": {"Authorization": "drop"}},
                },
            },
        }
        if ha:
            values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
            values["topologySpreadConstraints"] = [
                kube_specs.zone_spread(_CONTROLLER_PODS, "ScheduleAnyway")
            ]
        return self._release(
            INGRESS_RELEASE,
            "traefik",
            charts.TRAEFIK_CHARTS[self._args.kubernetes_version],
            charts.TRAEFIK_REPO,
            namespace.metadata.name,
            values,
            # Only one Service can hold the node port, so a replacement must remove the old
            # release first; creating the new one first would fail on the taken port.
            pulumi.ResourceOptions(delete_before_replace=True),
        )

    def _storage_class(self) -> k8s.storage.v1.StorageClass:
        args = self._args
        return k8s.storage.v1.StorageClass(
            child_name(self._name, "storage-class"),
            metadata=ObjectMetaArgs(
                name=STORAGE_CLASS,
                # EKS marks no class default since 1.30 (and the EBS CSI add-on creates none
                # unless asked), so without this a claim naming no class would stay pending
                # or, if a default were added later, land on an unencrypted volume.
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner=EBS_CSI_PROVISIONER,
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": args.volume_key_arn,
            },
            # Binding waits for the pod so the volume is created in the zone it is scheduled in.
            volume_binding_mode="WaitForFirstConsumer",
            # prod keeps the EBS volume when a claim is deleted, so data lost by a mistaken
            # delete can be recovered; elsewhere volumes go with their claims and cost nothing.
            reclaim_policy="Retain" if args.retain_volumes else "Delete",
            allow_volume_expansion=True,
            # A class's parameters cannot change in place, and the fixed name cannot exist
            # twice: the old class goes first (existing volumes are unaffected).
            opts=pulumi.ResourceOptions.merge(
                self._child, pulumi.ResourceOptions(delete_before_replace=True)
            ),
        )

    def _namespace(self, role: str, ns_name: str, *, enforce: str) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            child_name(self._name, role),
            metadata=ObjectMetaArgs(
                name=ns_name,
                labels={
                    "pod-security.kubernetes.io/enforce": enforce,
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            ),
            opts=self._child,
        )

    def _network_policies(self, ns: k8s.core.v1.Namespace) -> None:
        specs = kube_specs.network_policies(
            self._args.data_subnet_cidrs, INGRESS_NAMESPACE, _CONTROLLER_PODS
        )
        for role, spec in specs.items():
            k8s.networking.v1.NetworkPolicy(
                child_name(self._name, role),
                metadata=ObjectMetaArgs(name=role, namespace=ns.metadata.name),
                spec=spec,
                opts=self._child,
            )

    def _limits(self, ns: k8s.core.v1.Namespace) -> None:
        k8s.core.v1.ResourceQuota(
            child_name(self._name, "quota"),
            metadata=ObjectMetaArgs(name="quota", namespace=ns.metadata.name),
            spec=ResourceQuotaSpecArgs(hard=dict(self._args.quota)),
            opts=self._child,
        )
        k8s.core.v1.LimitRange(
            child_name(self._name, "limits"),
            metadata=ObjectMetaArgs(name="limits", namespace=ns.metadata.name),
            spec=LimitRangeSpecArgs(
                limits=[
                    LimitRangeItemArgs(
                        type="Container",
                        default_request=charts.DEFAULT_REQUEST,
                        default=charts.DEFAULT_LIMIT,
                        max=dict(self._args.container_max),
                    )
                ]
            ),
            opts=self._child,
        )
