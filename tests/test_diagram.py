"""The diagram drawn from a recording: every tier per AZ, every component, every allowed path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reevo_infra import diagram, offline
from reevo_infra.drawing import Diagram, Edge, Group, to_dot, to_mermaid
from reevo_infra.layout import INGRESS_RULE, INTERNET, TIERS
from reevo_infra.offline import Recording

COMPONENTS = (
    "aws:ec2/natGateway:NatGateway",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:apigateway/restApi:RestApi",
    "aws:apigateway/vpcLink:VpcLink",
    "aws:wafv2/webAcl:WebAcl",
    "aws:cognito/userPool:UserPool",
)


@pytest.fixture(scope="module")
def drawn(recordings: dict[str, Recording]) -> dict[str, tuple[Diagram, dict[str, str], str]]:
    """Each stack's diagram, what stands for each URN, and its Mermaid text."""
    found = {}
    for stack, rec in recordings.items():
        picture, represents = diagram.build(rec)
        found[stack] = (picture, represents, to_mermaid(picture))
    return found


def _group_of(picture: Diagram, node: str) -> Group:
    return next(g for g in picture.groups().values() if node in {n.id for n in g.nodes})


def _drawn(picture: Diagram, end: str) -> str:
    """The node Mermaid draws an edge end at: a group's anchor node stands in for the group."""
    groups = picture.groups()
    return groups[end].anchor() if end in groups else end


def _edges(picture: Diagram, src: str, dst: str) -> list[Edge]:
    return [e for e in picture.edges if (e.src, e.dst) == (src, dst)]


def test_every_tier_is_drawn_in_every_az(rec: Recording, drawn: dict) -> None:
    picture, represents, text = drawn[rec.stack]
    zones = {s.input("availabilityZone") for s in rec.of_type("aws:ec2/subnet:Subnet")}
    seen = set()
    for s in rec.of_type("aws:ec2/subnet:Subnet"):
        node = picture.nodes()[represents[s.urn]]
        tier = s.input("tags.Tier")
        assert _group_of(picture, node.id).label == TIERS[tier], s.urn
        assert node.lines == (s.input("availabilityZone"), s.input("cidrBlock")), s.urn
        assert f"{node.id}([" in text, s.urn
        seen.add((tier, s.input("availabilityZone")))
    assert seen == {(t, az) for t in TIERS for az in zones}
    for tier in TIERS.values():
        assert f'["{tier}"]' in text


def test_every_component_in_the_recording_is_drawn(rec: Recording, drawn: dict) -> None:
    picture, represents, text = drawn[rec.stack]
    drawable = set(picture.nodes()) | set(picture.groups())
    for r in rec.of_type(*COMPONENTS):
        assert represents.get(r.urn) in drawable, r.urn
        # A node or subgraph is declared as its id followed by a shape's opening bracket.
        assert re.search(rf"\s{represents[r.urn]}[\[({{]", text), r.urn


def test_an_edge_stands_for_each_security_group_rule(rec: Recording, drawn: dict) -> None:
    picture, represents, text = drawn[rec.stack]
    rules = rec.of_type(INGRESS_RULE)
    assert rules, "the network always opens its endpoints to the VPC"
    vpc = rec.one("aws:ec2/vpc:Vpc")
    for rule in rules:
        (edge,) = [e for e in picture.edges if e.rule == rule.urn]
        port = int(rule.input("fromPort"))
        assert edge.label == f"{rule.input('ipProtocol')} {port}", rule.urn
        src, dst = (_drawn(picture, end) for end in (edge.src, edge.dst))
        assert f'{src} -->|"{edge.label}"| {dst}' in text, rule.urn
        target = rule.input("securityGroupId")
        carriers = {
            represents[r.urn]
            for r in rec
            if r.urn in represents and target in str(r.inputs) and r.id != target
        }
        carriers |= {
            represents[c.urn]
            for c in rec.of_type("aws:eks/cluster:Cluster")
            if c.state.get("vpcConfig", {}).get("clusterSecurityGroupId") == target
        }
        assert edge.dst in carriers, rule.urn
        source = rule.input("referencedSecurityGroupId")
        if rule.input("cidrIpv4") == vpc.input("cidrBlock"):
            assert edge.src == represents[vpc.urn], rule.urn
        elif source:
            assert edge.src not in (edge.dst, INTERNET), rule.urn


def test_the_request_path_follows_the_wiring(rec: Recording, drawn: dict) -> None:
    picture, represents, _ = drawn[rec.stack]
    chain = [
        ("aws:wafv2/webAcl:WebAcl", "aws:apigateway/restApi:RestApi"),
        ("aws:apigateway/restApi:RestApi", "aws:apigateway/vpcLink:VpcLink"),
        ("aws:apigateway/vpcLink:VpcLink", "aws:lb/loadBalancer:LoadBalancer"),
        ("aws:lb/loadBalancer:LoadBalancer", "aws:eks/nodeGroup:NodeGroup"),
    ]
    for src_type, dst_type in chain:
        for src in rec.of_type(src_type):
            for dst in rec.of_type(dst_type):
                found = _edges(picture, represents[src.urn], represents[dst.urn])
                assert found, f"no path {src.urn} -> {dst.urn}"
    for acl in rec.of_type("aws:wafv2/webAcl:WebAcl"):
        assert _edges(picture, INTERNET, represents[acl.urn]), acl.urn


def test_the_data_stores_admit_only_the_cluster(rec: Recording, drawn: dict) -> None:
    picture, represents, _ = drawn[rec.stack]
    clusters = {represents[c.urn] for c in rec.of_type("aws:eks/cluster:Cluster")}
    for store, port in (
        ("aws:rds/instance:Instance", "tcp 5432"),
        ("aws:elasticache/replicationGroup:ReplicationGroup", "tcp 6379"),
    ):
        for r in rec.of_type(store):
            into = [e for e in picture.edges if e.dst == represents[r.urn] and e.rule]
            assert {e.src for e in into} <= clusters, r.urn
            assert all(e.label == port for e in into), r.urn


def test_dot_text_has_every_node_and_edge(rec: Recording, drawn: dict) -> None:
    picture, _, _ = drawn[rec.stack]
    text = to_dot(picture)
    for node in picture.nodes():
        assert f"{node} [label=" in text
    assert text.count(" -> ") == len(picture.edges)


def test_main_writes_mermaid_in_markdown(tmp_path: Path) -> None:
    out = tmp_path / "dev.md"
    assert diagram.main(["dev", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Stack `dev`\n\n```mermaid\n---\n") and text.endswith("```\n")
    assert "flowchart LR" in text


def test_the_diagram_is_the_same_on_every_run(prod: Recording) -> None:
    again = offline.evaluate("prod")
    assert diagram.render(again, "mermaid") == diagram.render(prod, "mermaid")
