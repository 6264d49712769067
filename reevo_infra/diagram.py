"""Draw a stack from what it registers: tiers per AZ, components, and the allowed paths.

    python -m reevo_infra.diagram dev -o out/dev.md             # Mermaid in Markdown
    python -m reevo_infra.diagram prod -o out/prod.dot --format dot

Subnets are grouped by their `Tier` tag and availability zone; each component is drawn inside
the tier its subnets belong to. Edges come from the recording: routes (subnet to NAT or
internet gateway), the edge wiring (WAF association, VPC link target, NLB target group to node
group, authorizer to user pool) and one edge per security-group ingress rule, from the rule's
referenced group or CIDR to the group it opens. Tiers that are not deployed are not drawn.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from reevo_infra import offline
from reevo_infra.config import ConfigError
from reevo_infra.drawing import Diagram, Group, Node, node_id, to_dot, to_mermaid
from reevo_infra.layout import (
    INGRESS_RULE,
    INTERNET,
    SG_TYPES,
    Layout,
    num,
    strings,
)
from reevo_infra.offline import Recording, Registration


def _ports(rule: Registration) -> str:
    proto = str(rule.input("ipProtocol", "-1")).lower()
    if proto in ("-1", "all"):
        return "all traffic"
    low, high = num(rule.input("fromPort")), num(rule.input("toPort"))
    return f"{proto} {low}" if low == high else f"{proto} {low}-{high}"


def _wiring(b: Layout) -> None:
    apis = b.rec.of_type("aws:apigateway/restApi:RestApi")
    guarded = set()
    for assoc in b.rec.of_type("aws:wafv2/webAclAssociation:WebAclAssociation"):
        acl = b.by_arn.get(assoc.input("webAclArn"))
        api = _api_of(b, b.by_arn.get(assoc.input("resourceArn")))
        api = api or (apis[0] if len(apis) == 1 else None)
        if acl and api:
            b.edge(INTERNET, b.represents[acl.urn], "HTTPS")
            b.edge(b.represents[acl.urn], b.represents[api.urn], "allowed requests")
            guarded.add(api.urn)
    for api in apis:
        if api.urn not in guarded:
            b.edge(INTERNET, b.represents[api.urn], "HTTPS")
    for auth in b.rec.of_type("aws:apigateway/authorizer:Authorizer"):
        api = b.find("aws:apigateway/restApi:RestApi", auth.input("restApi"))
        for arn in auth.input("providerArns") or []:
            pool = b.by_arn.get(arn)
            if api and pool:
                b.edge(
                    b.represents[api.urn],
                    b.represents[pool.urn],
                    "validates tokens",
                    dotted=True,
                )
    linked = set()
    for integration in b.rec.of_type("aws:apigateway/integration:Integration"):
        link = b.find("aws:apigateway/vpcLink:VpcLink", integration.input("connectionId"))
        api = b.find("aws:apigateway/restApi:RestApi", integration.input("restApi"))
        if link and api and (api.urn, link.urn) not in linked:
            linked.add((api.urn, link.urn))
            b.edge(b.represents[api.urn], b.represents[link.urn], "VPC_LINK")
    for link in b.rec.of_type("aws:apigateway/vpcLink:VpcLink"):
        targets = [link.input("targetArn"), *(link.input("targetArns") or [])]
        for lb in filter(None, (b.by_arn.get(t) for t in targets if t)):
            b.edge(b.represents[link.urn], b.represents[lb.urn], _listeners(b, lb))
    _targets(b)


def _api_of(b: Layout, resource: Registration | None) -> Registration | None:
    if resource is None or resource.type == "aws:apigateway/restApi:RestApi":
        return resource
    return b.find("aws:apigateway/restApi:RestApi", resource.input("restApi"))


def _listeners(b: Layout, lb: Registration) -> str:
    ports = sorted(
        f"{x.input('protocol', '')} {num(x.input('port'))}".strip()
        for x in b.rec.of_type("aws:lb/listener:Listener")
        if x.input("loadBalancerArn") == lb.state.get("arn")
    )
    return ", ".join(ports)


def _targets(b: Layout) -> None:
    groups = {
        ng.state.get("resources", [{}])[0].get("autoscalingGroups", [{}])[0].get("name"): ng
        for ng in b.rec.of_type("aws:eks/nodeGroup:NodeGroup")
        if ng.state.get("resources")
    }
    for listener in b.rec.of_type("aws:lb/listener:Listener"):
        lb = b.by_arn.get(listener.input("loadBalancerArn"))
        for action in listener.input("defaultActions") or []:
            tg = b.by_arn.get(action.get("targetGroupArn"))
            if lb is None or tg is None:
                continue
            for attach in b.rec.of_type("aws:autoscaling/attachment:Attachment"):
                ng = groups.get(attach.input("autoscalingGroupName"))
                if ng and attach.input("lbTargetGroupArn") == tg.state.get("arn"):
                    port = f"{tg.input('protocol', '')} {num(tg.input('port'))}".strip()
                    b.edge(b.represents[lb.urn], b.represents[ng.urn], port)


def _security_rules(b: Layout) -> None:
    owners = _sg_owners(b)
    for rule in b.rec.of_type(INGRESS_RULE):
        dst = _sg_node(b, owners, rule.input("securityGroupId"))
        source = rule.input("referencedSecurityGroupId")
        if source:
            src = _sg_node(b, owners, source)
        else:
            src = _cidr_node(
                b,
                rule.input("cidrIpv4")
                or rule.input("cidrIpv6")
                or rule.input("prefixListId")
                or "?",
            )
        b.edge(src, dst, _ports(rule), rule=rule.urn)


def _sg_owners(b: Layout) -> dict[str, set[str]]:
    ids = {r.id for r in b.rec.of_type(*SG_TYPES)} | set(b.cluster_sgs)
    owners: dict[str, set[str]] = {sg: set() for sg in ids}
    for sg, group in b.cluster_sgs.items():
        owners[sg].add(group)
    for r in b.rec:
        where = b.represents.get(r.urn)
        if where is None or r.type == INGRESS_RULE:
            continue
        for s in strings(r.inputs):
            if s in owners and s != r.id:
                owners[s].add(where)
    return owners


def _sg_node(b: Layout, owners: dict[str, set[str]], sg_id: Any) -> str:
    found = owners.get(sg_id, set())
    if len(found) == 1:
        return next(iter(found))
    groups = b.top_groups()
    for candidate in sorted(found):
        if candidate in groups and all(_inside(o, groups[candidate]) for o in found):
            return candidate
    sg = b.find(SG_TYPES, sg_id)
    if sg is not None and sg.urn in b.represents:
        return b.represents[sg.urn]
    group = b.vpcs.get(sg.input("vpcId"), (b.top, ""))[0] if sg else b.top
    if sg is not None:
        return b.add(group, sg, "security group", sg.name, css="network")
    node = Node(node_id("sg", str(sg_id)), ("security group", str(sg_id)), "box", "network")
    if node.id not in {n.id for n in b.top.nodes}:
        b.top.nodes.append(node)
    return node.id


def _inside(node: str, group: Group) -> bool:
    return node == group.id or any(
        node in {n.id for n in g.nodes} or node == g.id for g in group.walk()
    )


def _cidr_node(b: Layout, cidr: str) -> str:
    if cidr in ("0.0.0.0/0", "::/0"):
        return INTERNET
    for group, vpc_cidr in b.vpcs.values():
        if cidr == vpc_cidr:
            return group.id
    node = Node(node_id("cidr", cidr), (cidr,), "pill", "network")
    if node.id not in {n.id for n in b.top.nodes}:
        b.top.nodes.append(node)
    return node.id


def build(rec: Recording) -> tuple[Diagram, dict[str, str]]:
    """The diagram of a recording, and which node or group stands for each resource URN."""
    b = Layout(rec)
    b.top.nodes.append(Node(INTERNET, ("Internet",), "circle"))
    b.network()
    b.compute()
    b.data()
    b.edge_tier()
    _wiring(b)
    _security_rules(b)
    edges = sorted(set(b.edges), key=lambda e: (e.src, e.dst, e.label, e.rule))
    title = f"reevo {rec.stack}, tiers per AZ and allowed network paths"
    return Diagram(title, b.top, edges), b.represents


def render(rec: Recording, fmt: str = "mermaid") -> str:
    diagram, _ = build(rec)
    return to_dot(diagram) if fmt == "dot" else to_mermaid(diagram)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reevo_infra.diagram",
        description="Evaluate a stack offline and draw its tiers, components and allowed "
        "network paths as Mermaid (GitHub renders it) or Graphviz DOT text.",
    )
    parser.add_argument("stack", help="stack name; its config is read from Pulumi.<stack>.yaml")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write; a .md file gets a ```mermaid block (default stdout)",
    )
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=offline.PROJECT_DIR,
        help="folder holding __main__.py and the stack files",
    )
    args = parser.parse_args(argv)
    try:
        rec = offline.evaluate(args.stack, project_dir=args.project_dir)
    except (ConfigError, FileNotFoundError) as err:
        print(f"error: {args.stack}: {err}", file=sys.stderr)
        return 2
    text = render(rec, args.format)
    if args.output is None:
        print(text, end="")
        return 0
    if args.output.suffix == ".md" and args.format == "mermaid":
        text = f"# Stack `{args.stack}`\n\n```mermaid\n{text}```\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
