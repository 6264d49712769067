"""The in-cluster platform: add-on releases, the app namespace, its policies and limits."""

from __future__ import annotations

import json
import re

import pytest

from reevo_infra import charts, config, offline, rules
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording, Registration
from tests import support

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
PINNED = re.compile(r"^\d+\.\d+\.\d+$")
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
INTERNET_EGRESS = {"reevo.com.br/internet-egress": "true"}


def _release(rec: Recording, chart: str) -> Registration:
    found = [r for r in rec.of_type(RELEASE) if r.input("chart") == chart]
    assert len(found) == 1, f"{rec.stack}: expected one {chart} release, found {len(found)}"
    return found[0]


def _app_namespace(rec: Recording) -> str:
    name = rec.outputs["appNamespace"]
    assert isinstance(name, str) and name, f"{rec.stack}: no appNamespace output"
    return name


def _policies(rec: Recording) -> list[Registration]:
    ns = _app_namespace(rec)
    return [p for p in rec.of_type(POLICY) if p.input("metadata.namespace") == ns]


def _is_all_pods(selector: object) -> bool:
    return (
        isinstance(selector, dict)
        and not selector.get("matchLabels")
        and not (selector.get("matchExpressions"))
    )


def _egress_rules(rec: Recording) -> list[tuple[Registration, dict]]:
    return [(p, rule) for p in _policies(rec) for rule in p.input("spec.egress") or []]


def _ports(rule: dict) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), int(p["port"])) for p in rule.get("ports") or []}


def test_rnf_ed_01_cluster_autoscaler_installed_with_role_and_cluster_name(
    rec: Recording,
) -> None:
    r = _release(rec, "cluster-autoscaler")
    assert r.input("repositoryOpts.repo") == charts.AUTOSCALER_REPO, r.urn
    assert PINNED.match(str(r.input("version"))), f"{r.urn}: chart version not pinned"
    assert r.input("namespace") == "kube-system", r.urn
    assert r.input("values.autoDiscovery.clusterName"), f"{r.urn}: no autoDiscovery.clusterName"
    assert r.input("values.awsRegion") == rec.outputs["region"], r.urn
    sa = r.input("values.rbac.serviceAccount") or {}
    role = (sa.get("annotations") or {}).get("eks.amazonaws.com/role-arn")
    assert role and ROLE_ARN.match(role), f"{r.urn}: service account has no IAM role: {role!r}"


def test_rnf_ed_01_metrics_server_installed_for_the_pod_autoscalers(rec: Recording) -> None:
    r = _release(rec, "metrics-server")
    assert r.input("repositoryOpts.repo") == charts.METRICS_SERVER_REPO, r.urn
    assert PINNED.match(str(r.input("version"))), f"{r.urn}: chart version not pinned"


def test_rnf_ed_01_config_rejects_a_version_without_a_pinned_autoscaler() -> None:
    raw = config.raw_from_flat(offline.stack_config("dev"))
    raw["cluster"] = {**raw["cluster"], "version": "1.29"}
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    assert "reevo:cluster.version" in str(err.value)


def test_rf_cad_002_config_rejects_a_version_without_a_pinned_ingress_controller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "TRAEFIK_CHARTS", {})
    raw = config.raw_from_flat(offline.stack_config("dev"))
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    message = str(err.value)
    assert "reevo:cluster.version: the Traefik ingress controller chart" in message, message


def _controller(rec: Recording) -> Registration:
    r = _release(rec, "traefik")
    assert r.input("repositoryOpts.repo") == charts.TRAEFIK_REPO, r.urn
    assert PINNED.match(str(r.input("version"))), f"{r.urn}: chart version not pinned"
    return r


def _controller_pods(r: Registration) -> dict[str, str]:
    """The labels the Traefik chart gives its pods: chart name, and release-namespace."""
    return {
        "app.kubernetes.io/name": r.input("chart"),
        "app.kubernetes.io/instance": f"{r.input('name')}-{r.input('namespace')}",
    }


def test_rnf_cf_01_prod_ingress_controller_is_redundant_across_zones(prod: Recording) -> None:
    r = _controller(prod)
    assert r.input("values.deployment.replicas", 1) >= 2, f"{r.urn}: one controller replica"
    pdb = r.input("values.podDisruptionBudget") or {}
    assert pdb.get("enabled") and pdb.get("minAvailable", 0) >= 1, f"{r.urn}: no PDB"
    spread = r.input("values.topologySpreadConstraints") or []
    zonal = [c for c in spread if c.get("topologyKey") == "topology.kubernetes.io/zone"]
    assert zonal, f"{r.urn}: controller not spread over zones"
    selects = zonal[0].get("labelSelector", {}).get("matchLabels") or {}
    assert selects and selects.items() <= _controller_pods(r).items(), (
        f"{r.urn}: zone spread selects {selects}, not the controller pods"
    )


def test_rf_cad_002_ingress_controller_listens_on_the_nlb_target_port(rec: Recording) -> None:
    r = _controller(rec)
    target_ports = {int(t.input("port")) for t in rec.of_type("aws:lb/targetGroup:TargetGroup")}
    assert r.input("values.service.spec.type") == "NodePort", f"{r.urn}: not a NodePort"
    node_port = r.input("values.ports.web.nodePort")
    assert node_port is not None and int(node_port) in target_ports, (
        f"{r.urn}: web node port {node_port} is not an NLB target port {target_ports}"
    )
    # TLS ends at the API Gateway: an HTTPS node port would be an unused opening.
    assert r.input("values.ports.websecure.expose.default") is False, (
        f"{r.urn}: websecure exposed on the nodes"
    )


def test_rf_cad_002_old_controller_leaves_the_node_port_before_the_new_one_takes_it(
    rec: Recording,
) -> None:
    r = _controller(rec)
    assert r.options["deleteBeforeReplace"], f"{r.urn}: replacement would clash on the port"


def test_rnf_p_01_ingress_controller_serves_plain_ingress_objects(rec: Recording) -> None:
    r = _controller(rec)
    assert r.input("values.providers.kubernetesIngress.enabled") is True, r.urn
    assert r.input("values.providers.kubernetesCRD.enabled") is False, (
        f"{r.urn}: Traefik-only IngressRoute CRDs enabled"
    )
    ingress_class = r.input("values.ingressClass") or {}
    assert ingress_class.get("enabled") is True and ingress_class.get("name"), (
        f"{r.urn}: no IngressClass for the workloads"
    )
    assert ingress_class.get("isDefaultClass") is False, f"{r.urn}: claims every Ingress"


def test_rnf_s_04_ingress_access_logs_are_json_without_authorization(rec: Recording) -> None:
    r = _controller(rec)
    log = r.input("values.accessLog") or {}
    assert log.get("enabled") is True and log.get("format") == "json", f"{r.urn}: {log}"
    headers = (log.get("fields") or {}).get("headers") or {}
    assert headers.get("defaultMode") == "drop", f"{r.urn}: request headers are logged"
    assert (headers.get("names") or {}).get("Authorization") == "drop", (
        f"{r.urn}: Authorization header not dropped"
    )


def test_rnf_s_04_ingress_namespace_has_pod_security_labels(rec: Recording) -> None:
    ns = _controller(rec).input("namespace")
    found = [n for n in rec.of_type(NAMESPACE) if n.input("metadata.name") == ns]
    assert len(found) == 1, f"{rec.stack}: namespace {ns} not registered"
    labels = found[0].input("metadata.labels") or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "baseline", found[0].urn
    for mode in ("audit", "warn"):
        assert labels.get(f"pod-security.kubernetes.io/{mode}") == "restricted", (
            f"{found[0].urn}: pod-security {mode} is {labels.get(mode)!r}"
        )


def test_rnf_s_04_app_namespace_enforces_the_restricted_pod_security_standard(
    rec: Recording,
) -> None:
    ns = _app_namespace(rec)
    found = [n for n in rec.of_type(NAMESPACE) if n.input("metadata.name") == ns]
    assert len(found) == 1, f"{rec.stack}: namespace {ns} not registered"
    labels = found[0].input("metadata.labels") or {}
    for mode in ("enforce", "audit", "warn"):
        assert labels.get(f"pod-security.kubernetes.io/{mode}") == "restricted", (
            f"{found[0].urn}: pod-security {mode} is {labels.get(mode)!r}"
        )


def test_rnf_s_04_default_deny_covers_ingress_and_egress(rec: Recording) -> None:
    deny = [
        p
        for p in _policies(rec)
        if _is_all_pods(p.input("spec.podSelector"))
        and {"Ingress", "Egress"} <= set(p.input("spec.policyTypes") or [])
        and not p.input("spec.ingress")
        and not p.input("spec.egress")
    ]
    assert deny, f"{rec.stack}: no default-deny NetworkPolicy in the app namespace"


def test_rnf_s_04_every_allow_rule_names_its_peers(rec: Recording) -> None:
    for p in _policies(rec):
        for rule in p.input("spec.ingress") or []:
            assert rule.get("from"), f"{p.urn}: ingress rule admits every source"
        for rule in p.input("spec.egress") or []:
            assert rule.get("to") and rule.get("ports"), f"{p.urn}: egress rule is open"


def test_rnf_s_04_dns_egress_only_to_kube_system(rec: Recording) -> None:
    dns = [
        (p, rule) for p, rule in _egress_rules(rec) if _ports(rule) == {("UDP", 53), ("TCP", 53)}
    ]
    assert dns, f"{rec.stack}: pods cannot resolve names (no DNS egress)"
    for p, rule in dns:
        for peer in rule["to"]:
            labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
            assert labels.get("kubernetes.io/metadata.name") == "kube-system", p.urn


def test_rnf_s_04_service_pods_accept_traffic_only_from_the_ingress_controller(
    rec: Recording,
) -> None:
    controller = _controller(rec)
    ingress_ns = controller.input("namespace")
    pods = _controller_pods(controller)
    rules = [(p, rule) for p in _policies(rec) for rule in p.input("spec.ingress") or []]
    assert rules, f"{rec.stack}: nothing may reach the services"
    for p, rule in rules:
        for peer in rule["from"]:
            labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
            assert labels.get("kubernetes.io/metadata.name") == ingress_ns, (
                f"{p.urn}: admits traffic from outside {ingress_ns}"
            )
            selects = (peer.get("podSelector") or {}).get("matchLabels") or {}
            assert selects and selects.items() <= pods.items(), (
                f"{p.urn}: pod selector {selects} is not the controller's pods {pods}"
            )
            assert "ipBlock" not in peer, f"{p.urn}: admits an address block"


def test_rnf_s_04_data_egress_only_to_the_data_subnets(rec: Recording) -> None:
    data_cidrs = {
        s.input("cidrBlock")
        for s in rec.of_type("aws:ec2/subnet:Subnet")
        if s.input("tags.Tier") == "data"
    }
    data = [
        (p, rule)
        for p, rule in _egress_rules(rec)
        if {5432, 6379} & {port for _, port in _ports(rule)}
    ]
    assert data, f"{rec.stack}: pods cannot reach the database or Redis"
    for p, rule in data:
        assert _ports(rule) <= {("TCP", 5432), ("TCP", 6379)}, p.urn
        blocks = {peer.get("ipBlock", {}).get("cidr") for peer in rule["to"]}
        assert blocks == data_cidrs, f"{p.urn}: data egress to {blocks}, not {data_cidrs}"


def test_rnf_s_04_egress_to_any_address_is_https_only(rec: Recording) -> None:
    wide = [
        (p, rule)
        for p, rule in _egress_rules(rec)
        if any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in rule["to"])
    ]
    assert wide, f"{rec.stack}: pods cannot reach AWS APIs"
    for p, rule in wide:
        assert _ports(rule) == {("TCP", 443)}, f"{p.urn}: open egress beyond HTTPS"


def test_rnf_s_04_https_to_any_address_only_from_pods_labelled_for_it(rec: Recording) -> None:
    wide = [
        p
        for p, rule in _egress_rules(rec)
        if any(peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0" for peer in rule["to"])
    ]
    assert wide, f"{rec.stack}: no service can reach external APIs"
    for p in wide:
        selector = p.input("spec.podSelector") or {}
        assert selector.get("matchLabels") == INTERNET_EGRESS, (
            f"{p.urn}: selects {selector}, not only pods labelled {INTERNET_EGRESS}"
        )
        assert not selector.get("matchExpressions"), f"{p.urn}: extra selector expressions"


def _storage_classes(rec: Recording) -> list[Registration]:
    return rec.of_type("kubernetes:storage.k8s.io/v1:StorageClass")


def _default_storage_class(rec: Recording) -> Registration:
    defaults = [
        sc
        for sc in _storage_classes(rec)
        if sc.input("metadata.annotations", {}).get(DEFAULT_CLASS) == "true"
    ]
    assert len(defaults) == 1, f"{rec.stack}: {len(defaults)} default StorageClasses"
    return defaults[0]


def test_rnf_s_01_default_storage_class_encrypts_with_the_cluster_key(rec: Recording) -> None:
    sc = _default_storage_class(rec)
    cluster_key = support.key(rec, "cluster").state["arn"]
    assert sc.input("provisioner") == "ebs.csi.aws.com", f"{sc.urn}: not the EBS CSI driver"
    assert sc.input("parameters.type") == "gp3", sc.urn
    assert sc.input("parameters.encrypted") == "true", f"{sc.urn}: volumes unencrypted"
    assert sc.input("parameters.kmsKeyId") == cluster_key, (
        f"{sc.urn}: key {sc.input('parameters.kmsKeyId')!r}, not the cluster key {cluster_key}"
    )
    assert sc.input("volumeBindingMode") == "WaitForFirstConsumer", sc.urn
    assert sc.input("allowVolumeExpansion") is True, sc.urn
    kube = rec.one("pulumi:providers:kubernetes")
    assert sc.provider_urn == kube.urn, f"{sc.urn}: provider {sc.provider!r}"


def test_rnf_s_01_every_storage_class_encrypts_its_volumes(rec: Recording) -> None:
    for sc in _storage_classes(rec):
        assert sc.input("parameters.encrypted") == "true", f"{sc.urn}: volumes unencrypted"


def test_rnf_s_01_ebs_csi_driver_may_use_the_storage_class_key(rec: Recording) -> None:
    key = _default_storage_class(rec).input("parameters.kmsKeyId")
    policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", f"reevo-{rec.stack}-eks-ebs-csi-kms").input(
            "policy"
        )
    )
    resources = {s["Resource"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    assert resources == {key}, f"{rec.stack}: EBS CSI driver may use {resources}, not {key}"


def test_rnf_cf_03_volumes_outlive_their_claims_in_prod_only(
    prod: Recording, dev: Recording
) -> None:
    sc = _default_storage_class(prod)
    assert sc.input("reclaimPolicy") == "Retain", f"{sc.urn}: prod volumes deleted with claims"
    sc = _default_storage_class(dev)
    assert sc.input("reclaimPolicy") == "Delete", f"{sc.urn}: dev volumes outlive their claims"


def test_rnf_ed_01_app_namespace_has_a_quota_and_limit_range(rec: Recording) -> None:
    ns = _app_namespace(rec)
    quotas = [
        q
        for q in rec.of_type("kubernetes:core/v1:ResourceQuota")
        if q.input("metadata.namespace") == ns
    ]
    ranges = [
        r
        for r in rec.of_type("kubernetes:core/v1:LimitRange")
        if r.input("metadata.namespace") == ns
    ]
    assert len(quotas) == 1 and len(ranges) == 1, f"{rec.stack}: quota/limit range missing"
    hard = quotas[0].input("spec.hard") or {}
    for key in ("pods", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        assert key in hard, f"{quotas[0].urn}: no {key}"
    assert hard.get("services.loadbalancers") == "0", quotas[0].urn
    item = ranges[0].input("spec.limits.0") or {}
    assert item.get("default") and item.get("defaultRequest"), ranges[0].urn


def test_rnf_p_01_every_kubernetes_resource_uses_the_explicit_provider(
    rec: Recording,
) -> None:
    providers = rec.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1, f"{rec.stack}: {len(providers)} Kubernetes providers"
    objects = [r for r in rec if r.type.startswith("kubernetes:")]
    assert objects, f"{rec.stack}: no Kubernetes resources"
    for r in objects:
        assert r.provider_urn == providers[0].urn, f"{r.urn}: provider {r.provider!r}"


def test_rnf_s_04_kubeconfig_is_a_secret(rec: Recording) -> None:
    provider = rec.one("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_inputs, provider.urn


def test_namespace_quota_fits_every_service_at_its_ceiling_plus_a_surge_pod() -> None:
    quota = charts.namespace_quota(
        [
            charts.Footprint(max_replicas=3, cpu="250m", memory="256Mi"),
            charts.Footprint(max_replicas=1, cpu="1", memory="1Gi"),
        ]
    )
    assert quota["pods"] == "6"
    assert quota["requests.cpu"] == "3000m"
    assert quota["requests.memory"] == "3072Mi"
    assert quota["limits.cpu"] == "6000m"
    assert quota["services.nodeports"] == "0"
