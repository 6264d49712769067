"""Place a recording's resources on a drawing: subnets by tier and AZ, components in their tier."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from reevo_infra.drawing import Edge, Group, Node, node_id
from reevo_infra.offline import Recording, Registration

TIERS = {"public": "public subnets", "app": "private app subnets", "data": "isolated data subnets"}
INTERNET = "n_internet"
SG_TYPES = ("aws:ec2/securityGroup:SecurityGroup",)
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LB_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class Layout:
    """The groups and nodes for a recording, and the URN each stands for."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.by_arn = {r.state["arn"]: r for r in rec if isinstance(r.state.get("arn"), str)}
        self.top = Group("root", "")
        self.edges: list[Edge] = []
        self.represents: dict[str, str] = {}
        self.subnets: dict[str, tuple[Group, Group, str]] = {}
        """Subnet id -> (VPC group, tier group, AZ)."""
        self.vpcs: dict[str, tuple[Group, str]] = {}
        """VPC id -> (group, CIDR)."""
        self._edge_group: Group | None = None
        self.cluster_sgs: dict[str, str] = {}
        """EKS-created cluster security group id -> the cluster's group."""

    def find(self, typ: str | tuple[str, ...], key: Any) -> Registration | None:
        """The resource of `typ` whose id, ARN or physical name is `key`."""
        types = (typ,) if isinstance(typ, str) else typ
        for r in self.rec.of_type(*types):
            if key in (r.id, r.state.get("arn"), r.state.get("name")) and key:
                return r
        return None

    def add(
        self, group: Group, r: Registration, *lines: str, shape: str = "box", css: str = ""
    ) -> str:
        node = Node(node_id(r.type.rsplit(":", 1)[-1], r.name), tuple(lines), shape, css)
        group.nodes.append(node)
        self.represents[r.urn] = node.id
        return node.id

    def edge(
        self, src: str, dst: str, label: str = "", *, dotted: bool = False, rule: str = ""
    ) -> None:
        if src and dst:
            self.edges.append(Edge(src, dst, label, dotted, rule))

    def edge_group(self) -> Group:
        if self._edge_group is None:
            region = self.rec.config.get("aws:region", "")
            self._edge_group = Group("n_edge", f"AWS regional edge {region}".strip())
            self.top.groups.insert(0, self._edge_group)
        return self._edge_group

    def place(self, subnet_ids: Iterable[Any]) -> tuple[Group, list[str]]:
        """The innermost group holding every one of the subnets, and their AZs."""
        found = [self.subnets[s] for s in subnet_ids if s in self.subnets]
        azs = sorted({az for _, _, az in found})
        tiers = {id(t) for _, t, _ in found}
        vpcs = {id(v) for v, _, _ in found}
        if found and len(tiers) == 1:
            return found[0][1], azs
        if found and len(vpcs) == 1:
            return found[0][0], azs
        return self.top, azs

    def network(self) -> None:
        for vpc in self.rec.of_type("aws:ec2/vpc:Vpc"):
            cidr = str(vpc.input("cidrBlock", ""))
            group = Group(node_id("vpc", vpc.name), f"VPC {vpc.name} {cidr}".strip())
            # Rules that admit the whole VPC start from this node.
            group.nodes.append(Node(f"{group.id}_cidr", ("VPC CIDR", cidr), "pill", "network"))
            group.anchor_id = f"{group.id}_cidr"
            self.top.groups.append(group)
            self.vpcs[vpc.id] = (group, cidr)
            self.represents[vpc.urn] = group.id
        tiers: dict[tuple[str, str], Group] = {}
        subnets = self.rec.of_type("aws:ec2/subnet:Subnet")
        order = {t: i for i, t in enumerate(TIERS)}
        for s in sorted(
            subnets,
            key=lambda s: (
                order.get(self._tier(s), 9),
                self._tier(s),
                str(s.input("availabilityZone")),
                s.name,
            ),
        ):
            vpc_group = self.vpcs.get(s.input("vpcId"), (self.top, ""))[0]
            tier, az = self._tier(s), str(s.input("availabilityZone", "?"))
            key = (vpc_group.id, tier)
            if key not in tiers:
                tiers[key] = Group(f"{vpc_group.id}_{tier}", TIERS.get(tier, f"{tier} subnets"))
                vpc_group.groups.append(tiers[key])
            self.add(tiers[key], s, az, str(s.input("cidrBlock", "")), shape="pill", css="network")
            self.subnets[s.id] = (vpc_group, tiers[key], az)
        for igw in self.rec.of_type("aws:ec2/internetGateway:InternetGateway"):
            group = self.vpcs.get(igw.input("vpcId"), (self.top, ""))[0]
            self.edge(self.add(group, igw, "internet gateway", css="network"), INTERNET)
        for nat in self.rec.of_type("aws:ec2/natGateway:NatGateway"):
            group, azs = self.place([nat.input("subnetId")])
            self.add(group, nat, "NAT gateway", *azs, css="network")
        self._routes()

    @staticmethod
    def _tier(subnet: Registration) -> str:
        return str(subnet.input("tags.Tier") or "untagged")

    def _routes(self) -> None:
        subnets_of: dict[str, list[str]] = {}
        for a in self.rec.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
            subnets_of.setdefault(a.input("routeTableId"), []).append(a.input("subnetId"))
        for route in self.rec.of_type("aws:ec2/route:Route"):
            target = self.find("aws:ec2/natGateway:NatGateway", route.input("natGatewayId"))
            target = target or self.find(
                "aws:ec2/internetGateway:InternetGateway", route.input("gatewayId")
            )
            if target is None:
                continue
            for subnet_id in subnets_of.get(route.input("routeTableId"), []):
                subnet = self.find("aws:ec2/subnet:Subnet", subnet_id)
                if subnet is not None:
                    self.edge(
                        self.represents[subnet.urn],
                        self.represents[target.urn],
                        str(route.input("destinationCidrBlock", "")),
                    )
        igws = self.rec.of_type("aws:ec2/internetGateway:InternetGateway")
        for nat in self.rec.of_type("aws:ec2/natGateway:NatGateway"):
            for igw in igws:
                if igw.input("vpcId") == self._vpc_of(nat.input("subnetId")):
                    self.edge(self.represents[nat.urn], self.represents[igw.urn])

    def _vpc_of(self, subnet_id: Any) -> Any:
        subnet = self.find("aws:ec2/subnet:Subnet", subnet_id)
        return subnet.input("vpcId") if subnet else None

    def compute(self) -> None:
        for lb in self.rec.of_type(*LB_TYPES):
            group, azs = self.place(lb.input("subnets") or [])
            kind = "NLB" if lb.input("loadBalancerType") == "network" else "load balancer"
            scope = "internal" if lb.input("internal") else "internet-facing"
            self.add(group, lb, f"{scope} {kind}", lb.name, " ".join(azs), css="network")
        endpoints = [
            e
            for e in self.rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.input("vpcEndpointType") == "Interface"
        ]
        if endpoints:
            group, _ = self.place(s for e in endpoints for s in e.input("subnetIds") or [])
            # com.amazonaws.<region>.<service>
            services = sorted(
                ".".join(str(e.input("serviceName")).split(".")[3:]) for e in endpoints
            )
            node = self.add(
                group, endpoints[0], "interface endpoints", ", ".join(services), css="network"
            )
            for e in endpoints:
                self.represents[e.urn] = node
        for cluster in self.rec.of_type("aws:eks/cluster:Cluster"):
            self._cluster(cluster)

    def _cluster(self, cluster: Registration) -> None:
        parent, azs = self.place(cluster.input("vpcConfig.subnetIds") or [])
        version = cluster.input("version")
        label = f"EKS cluster {cluster.name}" + (f" · Kubernetes {version}" if version else "")
        group = Group(node_id("eks", cluster.name), label)
        parent.groups.append(group)
        public = cluster.input("vpcConfig.endpointPublicAccess")
        access = "public and private API" if public else "private API only"
        self.add(group, cluster, "control plane", access, " ".join(azs), css="compute")
        self.represents[cluster.urn] = group.id
        clusters = self.rec.of_type("aws:eks/cluster:Cluster")
        node_groups = []
        for ng in self.rec.of_type("aws:eks/nodeGroup:NodeGroup"):
            mine = ng.input("clusterName") in (cluster.input("name"), cluster.state.get("name"))
            if not (mine or len(clusters) == 1):
                continue
            scaling = ng.input("scalingConfig") or {}
            size = f"{num(scaling.get('minSize'))}-{num(scaling.get('maxSize'))} nodes"
            types = ", ".join(ng.input("instanceTypes") or [])
            node = self.add(group, ng, f"node group {ng.name}", types, size, css="compute")
            node_groups.append(node)
            template = self.find(
                "aws:ec2/launchTemplate:LaunchTemplate", ng.input("launchTemplate.id")
            )
            if template is not None:
                self.represents[template.urn] = node
        workloads = self.rec.of_type(
            "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"
        )
        if workloads and len(clusters) == 1:
            names = sorted(str(w.input("metadata.name") or w.name) for w in workloads)
            rows = [", ".join(names[i : i + 3]) for i in range(0, len(names), 3)]
            node = self.add(group, workloads[0], "workloads", *rows, css="compute")
            for w in workloads:
                self.represents[w.urn] = node
        # EKS puts its cluster security group on the managed nodes: paths to and from the
        # cluster are drawn at its node group when there is just one.
        if len(node_groups) == 1:
            group.anchor_id = node_groups[0]
        sg = cluster.state.get("vpcConfig", {}).get("clusterSecurityGroupId")
        if sg:
            self.cluster_sgs[sg] = group.id

    def data(self) -> None:
        for db in self.rec.of_type("aws:rds/instance:Instance"):
            group, _ = self.place(
                self._subnets_of("aws:rds/subnetGroup:SubnetGroup", db.input("dbSubnetGroupName"))
            )
            engine = f"{db.input('engine', 'database')} {db.input('engineVersion', '')}".strip()
            spread = "Multi-AZ" if db.input("multiAz") else "single-AZ"
            self.add(
                group,
                db,
                db.name,
                engine,
                str(db.input("instanceClass", "")),
                spread,
                shape="store",
                css="store",
            )
        for cache in self.rec.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
            group, _ = self.place(
                self._subnets_of(
                    "aws:elasticache/subnetGroup:SubnetGroup", cache.input("subnetGroupName")
                )
            )
            engine = f"{cache.input('engine', 'redis')} {cache.input('engineVersion', '')}"
            nodes = f"{cache.input('nodeType', '')} x {num(cache.input('numCacheClusters', 1))}"
            spread = "Multi-AZ" if cache.input("multiAzEnabled") else "single-AZ"
            self.add(
                group, cache, cache.name, engine.strip(), nodes, spread, shape="store", css="store"
            )

    def _subnets_of(self, typ: str, subnet_group: Any) -> list[Any]:
        found = self.find(typ, subnet_group)
        return list(found.input("subnetIds") or []) if found else []

    def edge_tier(self) -> None:
        for api in self.rec.of_type("aws:apigateway/restApi:RestApi"):
            stages = sorted(
                str(s.input("stageName"))
                for s in self.rec.of_type("aws:apigateway/stage:Stage")
                if s.input("restApi") == api.id
            )
            kind = str(api.input("endpointConfiguration.types") or "REST")
            self.add(
                self.edge_group(),
                api,
                "API Gateway",
                f"{kind} API {api.name}",
                "stages: " + ", ".join(stages) if stages else "no stage",
                css="gateway",
            )
        for link in self.rec.of_type("aws:apigateway/vpcLink:VpcLink"):
            self.add(self.edge_group(), link, "VPC link", link.name, css="gateway")
        for acl in self.rec.of_type("aws:wafv2/webAcl:WebAcl"):
            rules = len(acl.input("rules") or [])
            self.add(
                self.edge_group(),
                acl,
                "WAF web ACL",
                f"{rules} rules",
                shape="guard",
                css="gateway",
            )
        for pool in self.rec.of_type("aws:cognito/userPool:UserPool"):
            self.add(self.edge_group(), pool, "Cognito user pool", pool.name, css="gateway")

    def top_groups(self) -> dict[str, Group]:
        return {g.id: g for g in self.top.walk()}
