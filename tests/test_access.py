"""The data stores admit the cluster and nothing else, without waiting for it (RNF-S-04)."""

from __future__ import annotations

import pytest

from reevo_infra.offline import Recording

INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
STORES = [
    pytest.param("aws:rds/instance:Instance", "vpcSecurityGroupIds", 5432, id="database"),
    pytest.param(
        "aws:elasticache/replicationGroup:ReplicationGroup", "securityGroupIds", 6379, id="cache"
    ),
]


@pytest.mark.parametrize(("store_type", "groups", "port"), STORES)
def test_rnf_s_04_store_admits_its_port_only_from_the_cluster(
    rec: Recording, store_type: str, groups: str, port: int
) -> None:
    store = rec.one(store_type)
    cluster_sg = rec.one("aws:eks/cluster:Cluster").state["vpcConfig"]["clusterSecurityGroupId"]
    [sg_id] = store.input(groups)
    group = rec.by_id("aws:ec2/securityGroup:SecurityGroup", sg_id)
    assert not group.input("ingress"), f"{group.urn} has inline rules"
    rules = [r for r in rec.of_type(INGRESS_RULE) if r.input("securityGroupId") == sg_id]
    assert [r.input("referencedSecurityGroupId") for r in rules] == [cluster_sg]
    for rule in rules:
        assert (rule.input("fromPort"), rule.input("toPort")) == (port, port), rule.urn
        assert rule.input("ipProtocol") == "tcp", rule.urn
        assert not rule.input("cidrIpv4") and not rule.input("cidrIpv6"), rule.urn


@pytest.mark.parametrize(("store_type", "groups", "port"), STORES)
def test_rnf_cf_01_store_never_waits_for_the_cluster(
    rec: Recording, store_type: str, groups: str, port: int
) -> None:
    # On a real deploy the Multi-AZ database and the cluster take 15-20 minutes each.
    store = rec.one(store_type)
    waits = {rec.by_urn(u).type for u in rec.waits_for(store.urn)}
    assert not {t for t in waits if t.startswith("aws:eks/")}, store.urn
