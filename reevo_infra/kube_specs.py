"""Kubernetes specs as typed Args: network policies and hardened pods (no resources here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ConfigMapEnvSourceArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvFromSourceArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HTTPGetActionArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecretKeySelectorArgs,
    SecurityContextArgs,
    TopologySpreadConstraintArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from reevo_infra import charts

SYSTEM_NAMESPACE = "kube-system"
DATABASE_PORT = 5432
CACHE_PORT = 6379
RUN_AS = 10001
"""An unprivileged uid/gid for every service container (the images need not set USER)."""
INTERNET_EGRESS = {"reevo.com.br/internet-egress": "true"}
"""The pod label that opts a service into HTTPS to the internet; everyone else stays inside."""

_ALL_PODS = LabelSelectorArgs()
_NAME_LABEL = "kubernetes.io/metadata.name"
_ZONE = "topology.kubernetes.io/zone"


def _peer(namespace: str, pod_labels: Mapping[str, str]) -> NetworkPolicyPeerArgs:
    return NetworkPolicyPeerArgs(
        namespace_selector=LabelSelectorArgs(match_labels={_NAME_LABEL: namespace}),
        pod_selector=LabelSelectorArgs(match_labels=dict(pod_labels)),
    )


def _egress(
    peers: Sequence[NetworkPolicyPeerArgs],
    ports: Sequence[tuple[str, int]],
    pods: LabelSelectorArgs = _ALL_PODS,
) -> NetworkPolicySpecArgs:
    return NetworkPolicySpecArgs(
        pod_selector=pods,
        policy_types=["Egress"],
        egress=[
            NetworkPolicyEgressRuleArgs(
                to=list(peers),
                ports=[NetworkPolicyPortArgs(protocol=proto, port=p) for proto, p in ports],
            )
        ],
    )


def network_policies(
    data_cidrs: Sequence[str], ingress_namespace: str, ingress_pods: Mapping[str, str]
) -> dict[str, NetworkPolicySpecArgs]:
    """Deny everything in the namespace, then allow only what the services need."""
    dns = _peer(SYSTEM_NAMESPACE, {"k8s-app": "kube-dns"})
    data = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=c)) for c in data_cidrs]
    anywhere = NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr="0.0.0.0/0"))
    return {
        "default-deny": NetworkPolicySpecArgs(
            pod_selector=_ALL_PODS, policy_types=["Ingress", "Egress"]
        ),
        "allow-dns": _egress([dns], [("UDP", 53), ("TCP", 53)]),
        "allow-from-ingress": NetworkPolicySpecArgs(
            pod_selector=_ALL_PODS,
            policy_types=["Ingress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=[_peer(ingress_namespace, ingress_pods)])],
        ),
        "allow-data-tier": _egress(data, [("TCP", DATABASE_PORT), ("TCP", CACHE_PORT)]),
        # External APIs (payment providers) answer on public addresses with no fixed range,
        # so HTTPS may go anywhere, but only from pods of a service that opted in: the
        # services hold no AWS role, so the rest need nothing beyond the data tier and DNS.
        "allow-https-out": _egress(
            [anywhere], [("TCP", 443)], LabelSelectorArgs(match_labels=dict(INTERNET_EGRESS))
        ),
    }


def zone_spread(labels: Mapping[str, str], when: str) -> dict[str, object]:
    """A topology spread over zones, as Helm values (camelCase) for the add-on charts."""
    return {
        "maxSkew": 1,
        "topologyKey": _ZONE,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": dict(labels)},
    }


@dataclass(frozen=True)
class ContainerSpec:
    """What differs between the services' containers."""

    name: str
    image: pulumi.Input[str]
    port: int
    cpu: str
    memory: str
    health_path: str
    ready_path: str
    config_map: pulumi.Input[str]
    secret_refs: Sequence[tuple[str, pulumi.Input[str], str]] = ()
    """(environment variable, Secret name, key) triples; values never pass through Pulumi."""


def _probe(path: str, period: int, failures: int) -> ProbeArgs:
    return ProbeArgs(
        http_get=HTTPGetActionArgs(path=path, port="http"),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=failures,
    )


def hardened_pod(spec: ContainerSpec, labels: Mapping[str, str]) -> PodSpecArgs:
    """A pod that meets the `restricted` Pod Security Standard and spreads over zones."""
    seccomp = SeccompProfileArgs(type="RuntimeDefault")
    container = ContainerArgs(
        name=spec.name,
        image=spec.image,
        ports=[ContainerPortArgs(name="http", container_port=spec.port)],
        env_from=[EnvFromSourceArgs(config_map_ref=ConfigMapEnvSourceArgs(name=spec.config_map))],
        env=[
            EnvVarArgs(
                name=var,
                value_from=EnvVarSourceArgs(
                    secret_key_ref=SecretKeySelectorArgs(name=secret, key=key)
                ),
            )
            for var, secret, key in spec.secret_refs
        ],
        resources=ResourceRequirementsArgs(
            requests={"cpu": spec.cpu, "memory": spec.memory},
            limits=charts.container_limits(spec.cpu, spec.memory),
        ),
        # Startup allows up to 150 s before liveness may restart a slow-starting pod.
        startup_probe=_probe(spec.health_path, period=5, failures=30),
        liveness_probe=_probe(spec.health_path, period=10, failures=3),
        readiness_probe=_probe(spec.ready_path, period=5, failures=3),
        security_context=SecurityContextArgs(
            run_as_non_root=True,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            capabilities=CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=seccomp,
        ),
        volume_mounts=[VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )
    selector = LabelSelectorArgs(match_labels=dict(labels))
    return PodSpecArgs(
        automount_service_account_token=False,
        security_context=PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=RUN_AS,
            run_as_group=RUN_AS,
            fs_group=RUN_AS,
            seccomp_profile=seccomp,
        ),
        containers=[container],
        topology_spread_constraints=[
            TopologySpreadConstraintArgs(
                max_skew=1, topology_key=key, when_unsatisfiable=when, label_selector=selector
            )
            for key, when in (
                (_ZONE, "DoNotSchedule"),
                ("kubernetes.io/hostname", "ScheduleAnyway"),
            )
        ],
        # A read-only root needs somewhere to write temporary files.
        volumes=[VolumeArgs(name="tmp", empty_dir=EmptyDirVolumeSourceArgs(size_limit="64Mi"))],
    )
