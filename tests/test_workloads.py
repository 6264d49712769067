"""The services: one Workload per configured service, each with its image repository."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from reevo_infra.offline import Recording, Registration
from tests import support

WORKLOAD = "reevo:platform:Workload"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRETISH = re.compile(r"PASSWORD|TOKEN|SECRET|CREDENTIAL|API_KEY", re.IGNORECASE)
# Keys that tie a spec to AWS: EKS/ELB annotations, AWS load-balancer controller knobs,
# EKS node labels and instance-type selectors.
AWS_ONLY = re.compile(
    r"amazonaws\.com|alb\.ingress|service\.beta\.kubernetes\.io/aws|"
    r"^eks\.|node\.kubernetes\.io/instance-type|karpenter"
)


def _workloads(rec: Recording) -> list[Registration]:
    found = rec.of_type(WORKLOAD)
    assert found, f"{rec.stack}: no workloads"
    return found


def _child(rec: Recording, workload: Registration, typ: str) -> Registration:
    found = [r for r in rec.children(workload.urn) if r.type == typ]
    assert len(found) == 1, f"{workload.urn}: expected one {typ}, found {len(found)}"
    return found[0]


def _deployments(rec: Recording) -> Iterator[Registration]:
    for w in _workloads(rec):
        yield _child(rec, w, DEPLOYMENT)


def _containers(d: Registration) -> list[dict[str, Any]]:
    containers = d.input("spec.template.spec.containers") or []
    assert containers, f"{d.urn}: no containers"
    return containers


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_every_configured_service_has_a_workload(rec: Recording) -> None:
    names = {d.input("metadata.name") for d in _deployments(rec)}
    assert names == set(rec.outputs["repositoryUrls"]), f"{rec.stack}: {names}"
    assert {"credit", "payments", "marketplace"} <= names, f"{rec.stack}: {names}"


def test_rnf_cf_01_workloads_have_startup_liveness_and_readiness_probes(
    rec: Recording,
) -> None:
    for d in _deployments(rec):
        for c in _containers(d):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert (c.get(probe) or {}).get("httpGet", {}).get("path"), (
                    f"{d.urn}: {c['name']} has no HTTP {probe}"
                )


def test_rnf_cf_01_prod_workloads_run_at_least_two_replicas(prod: Recording) -> None:
    for w in _workloads(prod):
        d = _child(prod, w, DEPLOYMENT)
        hpa = _child(prod, w, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
        assert d.input("spec.replicas", 1) >= 2, f"{d.urn}: fewer than 2 replicas"
        assert hpa.input("spec.minReplicas", 1) >= 2, f"{hpa.urn}: may scale below 2"


def test_rnf_cf_01_workload_pods_spread_across_zones(rec: Recording) -> None:
    for d in _deployments(rec):
        pod_labels = d.input("spec.template.metadata.labels") or {}
        zone = [
            c
            for c in d.input("spec.template.spec.topologySpreadConstraints") or []
            if c.get("topologyKey") == "topology.kubernetes.io/zone"
        ]
        assert zone, f"{d.urn}: no zone spread"
        assert zone[0].get("maxSkew") == 1, d.urn
        selector = zone[0].get("labelSelector", {}).get("matchLabels") or {}
        assert selector and selector.items() <= pod_labels.items(), (
            f"{d.urn}: zone spread does not select the pods"
        )


def test_rnf_cf_01_every_workload_has_a_pod_disruption_budget(rec: Recording) -> None:
    for w in _workloads(rec):
        d = _child(rec, w, DEPLOYMENT)
        pdb = _child(rec, w, "kubernetes:policy/v1:PodDisruptionBudget")
        assert pdb.input("spec.selector.matchLabels") == d.input("spec.selector.matchLabels"), (
            f"{pdb.urn}: does not select {d.input('metadata.name')}'s pods"
        )
        budget = pdb.input("spec.maxUnavailable", pdb.input("spec.minAvailable"))
        assert budget is not None, f"{pdb.urn}: no budget"


def test_rnf_cf_01_prod_disruptions_leave_a_replica_serving(prod: Recording) -> None:
    for w in _workloads(prod):
        d = _child(prod, w, DEPLOYMENT)
        pdb = _child(prod, w, "kubernetes:policy/v1:PodDisruptionBudget")
        assert pdb.input("spec.maxUnavailable") < d.input("spec.replicas"), pdb.urn


def test_rnf_ed_01_every_workload_has_a_cpu_hpa_that_can_scale(rec: Recording) -> None:
    for w in _workloads(rec):
        d = _child(rec, w, DEPLOYMENT)
        hpa = _child(rec, w, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
        target = hpa.input("spec.scaleTargetRef") or {}
        assert (target.get("kind"), target.get("name")) == (
            "Deployment",
            d.input("metadata.name"),
        ), f"{hpa.urn}: targets {target}"
        assert hpa.input("spec.minReplicas") < hpa.input("spec.maxReplicas"), hpa.urn
        cpu = [
            m for m in hpa.input("spec.metrics") or [] if m.get("resource", {}).get("name") == "cpu"
        ]
        utilization = cpu[0]["resource"]["target"].get("averageUtilization") if cpu else None
        assert utilization and 0 < utilization <= 100, f"{hpa.urn}: no CPU target"


def test_rnf_ed_01_workloads_request_and_limit_resources(rec: Recording) -> None:
    for d in _deployments(rec):
        for c in _containers(d):
            resources = c.get("resources") or {}
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind) or {}), (
                    f"{d.urn}: {c['name']} has no {kind}"
                )


def test_rnf_s_01_image_repositories_are_encrypted_with_the_data_key(
    rec: Recording,
) -> None:
    data_keys = {support.key(rec, "data").state["arn"]}
    for w in _workloads(rec):
        repo = _child(rec, w, "aws:ecr/repository:Repository")
        enc = repo.input("encryptionConfigurations.0") or {}
        assert enc.get("encryptionType") == "KMS", f"{repo.urn}: not KMS-encrypted"
        assert enc.get("kmsKey") in data_keys, f"{repo.urn}: key {enc.get('kmsKey')!r}"


def test_rnf_s_04_image_repositories_scan_and_keep_tags_immutable(rec: Recording) -> None:
    for w in _workloads(rec):
        repo = _child(rec, w, "aws:ecr/repository:Repository")
        assert repo.input("imageScanningConfiguration.scanOnPush") is True, repo.urn
        assert repo.input("imageTagMutability") == "IMMUTABLE", repo.urn
        policy = _child(rec, w, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
        assert "expire" in policy.input("policy", ""), f"{policy.urn}: nothing expires"


def test_workload_image_comes_from_its_own_repository(rec: Recording) -> None:
    for w in _workloads(rec):
        repo = _child(rec, w, "aws:ecr/repository:Repository")
        d = _child(rec, w, DEPLOYMENT)
        image = _containers(d)[0]["image"]
        assert image.startswith(f"{repo.state['repositoryUrl']}:"), f"{d.urn}: {image}"


def test_rnf_s_04_containers_run_restricted(rec: Recording) -> None:
    for d in _deployments(rec):
        pod = d.input("spec.template.spec.securityContext") or {}
        assert pod.get("runAsNonRoot") is True, f"{d.urn}: pod may run as root"
        assert d.input("spec.template.spec.automountServiceAccountToken") is False, d.urn
        for c in _containers(d):
            sc = c.get("securityContext") or {}
            assert sc.get("runAsNonRoot") is True, f"{d.urn}: {c['name']} may run as root"
            assert sc.get("readOnlyRootFilesystem") is True, f"{d.urn}: writable root"
            assert sc.get("allowPrivilegeEscalation") is False, f"{d.urn}: can escalate"
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{d.urn}: capabilities"
            seccomp = sc.get("seccompProfile") or pod.get("seccompProfile") or {}
            assert seccomp.get("type") == "RuntimeDefault", f"{d.urn}: no seccomp profile"


def test_rnf_s_04_workload_config_carries_no_secret_values(rec: Recording) -> None:
    for w in _workloads(rec):
        cm = _child(rec, w, "kubernetes:core/v1:ConfigMap")
        leaked = [k for k in cm.input("data") or {} if SECRETISH.search(k)]
        assert not leaked, f"{cm.urn}: secret-looking keys {leaked}"
        d = _child(rec, w, DEPLOYMENT)
        for c in _containers(d):
            for env in c.get("env") or []:
                if SECRETISH.search(env["name"]):
                    assert "value" not in env and env["valueFrom"].get("secretKeyRef"), (
                        f"{d.urn}: {env['name']} is not a Secret reference"
                    )


def test_rf_cad_002_each_service_is_routed_through_the_ingress_controller(
    rec: Recording,
) -> None:
    controllers = [
        r for r in rec.of_type("kubernetes:helm.sh/v3:Release") if r.input("chart") == "traefik"
    ]
    assert len(controllers) == 1, f"{rec.stack}: {len(controllers)} ingress controllers"
    served = controllers[0].input("values.ingressClass.name")
    for w in _workloads(rec):
        svc = _child(rec, w, "kubernetes:core/v1:Service")
        ing = _child(rec, w, "kubernetes:networking.k8s.io/v1:Ingress")
        assert svc.input("spec.type") == "ClusterIP", f"{svc.urn}: exposed beyond the cluster"
        assert ing.input("spec.ingressClassName") == served, (
            f"{ing.urn}: class {ing.input('spec.ingressClassName')!r}, controller serves {served!r}"
        )
        path = ing.input("spec.rules.0.http.paths.0") or {}
        name = svc.input("metadata.name")
        assert path.get("path") == f"/{name}", f"{ing.urn}: path {path.get('path')!r}"
        assert path.get("backend", {}).get("service", {}).get("name") == name, ing.urn


def test_rnf_p_01_workload_specs_have_no_aws_only_fields(rec: Recording) -> None:
    for w in _workloads(rec):
        for r in rec.children(w.urn):
            if not r.type.startswith("kubernetes:"):
                continue
            aws_keys = [k for k in _keys(r.inputs) if AWS_ONLY.search(k)]
            assert not aws_keys, f"{r.urn}: AWS-only fields {aws_keys}"
            spec = r.input("spec.template.spec") or {}
            assert not spec.get("nodeSelector") and not spec.get("affinity"), (
                f"{r.urn}: pinned to particular nodes"
            )


def test_rnf_ed_01_deployments_leave_the_replica_count_to_the_hpa(rec: Recording) -> None:
    for deploy in rec.of_type("kubernetes:apps/v1:Deployment"):
        if deploy.name.startswith(f"reevo-{rec.stack}-platform"):
            continue
        assert "spec.replicas" in deploy.options["ignoreChanges"], deploy.urn


POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DNS_NAMESPACE = "kube-system"


def _pod_labels(d: Registration) -> dict[str, str]:
    return d.input("spec.template.metadata.labels") or {}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector with matchLabels only (what the policies use) picks `labels`."""
    assert not selector.get("matchExpressions"), f"unexpected expressions in {selector}"
    return (selector.get("matchLabels") or {}).items() <= labels.items()


def _egress_peers(rec: Recording, d: Registration) -> list[tuple[Registration, dict[str, Any]]]:
    """Every egress peer the app namespace's policies allow this Deployment's pods."""
    ns = d.input("metadata.namespace")
    return [
        (p, peer)
        for p in rec.of_type(POLICY)
        if p.input("metadata.namespace") == ns
        and _selects(p.input("spec.podSelector") or {}, _pod_labels(d))
        for rule in p.input("spec.egress") or []
        for peer in rule.get("to") or []
    ]


def _reaches_internet(peers: list[tuple[Registration, dict[str, Any]]]) -> bool:
    return any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for _, peer in peers)


def test_rnf_s_04_only_services_configured_for_it_reach_the_internet(rec: Recording) -> None:
    configured = {s["name"] for s in rec.config["reevo:services"] if s.get("internetEgress", False)}
    assert configured == {"payments"}, f"{rec.stack}: internetEgress on for {configured}"
    reaching = {
        d.input("metadata.name")
        for d in _deployments(rec)
        if _reaches_internet(_egress_peers(rec, d))
    }
    assert reaching == configured, (
        f"{rec.stack}: pods of {reaching} may send HTTPS anywhere, configured {configured}"
    )


def test_rnf_s_04_services_without_internet_egress_stay_inside_the_vpc(rec: Recording) -> None:
    vpc = ipaddress.IPv4Network(rec.one("aws:ec2/vpc:Vpc").input("cidrBlock"))
    closed = [d for d in _deployments(rec) if not _reaches_internet(_egress_peers(rec, d))]
    assert closed, f"{rec.stack}: every service may reach the internet"
    for d in closed:
        for p, peer in _egress_peers(rec, d):
            if "ipBlock" in peer:
                block = ipaddress.IPv4Network(peer["ipBlock"]["cidr"])
                assert block.subnet_of(vpc), f"{p.urn}: {d.urn} may reach {block}"
            else:
                ns = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                pods = (peer.get("podSelector") or {}).get("matchLabels") or {}
                assert ns.get("kubernetes.io/metadata.name") == DNS_NAMESPACE and pods, (
                    f"{p.urn}: {d.urn} may reach more than named {DNS_NAMESPACE} pods: {peer}"
                )
