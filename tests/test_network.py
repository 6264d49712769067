"""The network tier, read from the resources the program registers (RNF-CF-01, RNF-S-04)."""

from __future__ import annotations

import ipaddress

import pytest

from reevo_infra.offline import Recording, Registration
from tests import support

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
RT = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
IGW = "aws:ec2/internetGateway:InternetGateway"


def subnets(rec: Recording, tier: str) -> list[Registration]:
    return [s for s in rec.of_type(SUBNET) if s.input("tags.Tier") == tier]


def route_table_of(rec: Recording, subnet: Registration) -> Registration:
    """The route table associated with `subnet`, through the recorded association."""
    for assoc in rec.of_type(RTA):
        if assoc.input("subnetId") == subnet.id:
            return rec.by_id(RT, assoc.input("routeTableId"))
    raise AssertionError(f"{subnet.urn} has no route table association")


def routes_of(rec: Recording, table: Registration) -> list[Registration]:
    return [r for r in rec.of_type(ROUTE) if r.input("routeTableId") == table.id]


EXPECTED_AZS = {"dev": 2, "prod": 3}


def test_rnf_cf_01_vpc_spans_the_stacks_azs(rec: Recording) -> None:
    azs = {s.input("availabilityZone") for s in rec.of_type(SUBNET)}
    assert len(azs) >= 2
    assert len(azs) == EXPECTED_AZS[rec.stack]
    for tier in ("public", "app", "data"):
        tier_azs = [s.input("availabilityZone") for s in subnets(rec, tier)]
        assert sorted(tier_azs) == sorted(azs), f"{tier} tier must have one subnet per AZ"


def test_rnf_cf_01_prod_has_a_nat_gateway_per_az(prod: Recording) -> None:
    nats = prod.of_type(NAT)
    public_by_id = {s.id: s for s in subnets(prod, "public")}
    nat_azs = {public_by_id[n.input("subnetId")].input("availabilityZone") for n in nats}
    assert len(nats) == 3
    assert len(nat_azs) == 3, "each NAT must sit in its own AZ's public subnet"


def test_rnf_cf_01_every_environment_has_a_nat_gateway(rec: Recording) -> None:
    assert len(rec.of_type(NAT)) >= 1


def test_rnf_cf_01_prod_app_route_tables_use_their_own_azs_nat(prod: Recording) -> None:
    public_by_id = {s.id: s for s in subnets(prod, "public")}
    nat_az = {
        n.id: public_by_id[n.input("subnetId")].input("availabilityZone") for n in prod.of_type(NAT)
    }
    for subnet in subnets(prod, "app"):
        table = route_table_of(prod, subnet)
        defaults = [
            r for r in routes_of(prod, table) if r.input("destinationCidrBlock") == "0.0.0.0/0"
        ]
        assert len(defaults) == 1, table.urn
        assert nat_az[defaults[0].input("natGatewayId")] == subnet.input("availabilityZone"), (
            f"{table.urn} routes through another AZ's NAT"
        )


def test_rnf_s_04_private_subnets_have_no_route_to_an_internet_gateway(rec: Recording) -> None:
    igw_ids = {g.id for g in rec.of_type(IGW)}
    for tier in ("app", "data"):
        for subnet in subnets(rec, tier):
            table = route_table_of(rec, subnet)
            for route in routes_of(rec, table):
                assert route.input("gatewayId") not in igw_ids, f"{route.urn} reaches the IGW"


def test_rnf_s_04_data_subnets_have_no_default_route(rec: Recording) -> None:
    for subnet in subnets(rec, "data"):
        table = route_table_of(rec, subnet)
        assert routes_of(rec, table) == [], f"{table.urn} must hold the local route only"


def test_rnf_s_04_only_public_subnets_map_public_ips(rec: Recording) -> None:
    for subnet in rec.of_type(SUBNET):
        public = subnet.input("tags.Tier") == "public"
        assert subnet.input("mapPublicIpOnLaunch") is public, subnet.urn


def test_rnf_s_04_load_balancer_role_tags_match_the_tiers(rec: Recording) -> None:
    for subnet in rec.of_type(SUBNET):
        tier = subnet.input("tags.Tier")
        t = subnet.input("tags")
        assert ("kubernetes.io/role/elb" in t) is (tier == "public"), subnet.urn
        assert ("kubernetes.io/role/internal-elb" in t) is (tier == "app"), subnet.urn


def test_subnets_lie_inside_the_vpc_and_never_overlap(rec: Recording) -> None:
    vpc = ipaddress.IPv4Network(rec.one("aws:ec2/vpc:Vpc").input("cidrBlock"))
    blocks = [ipaddress.IPv4Network(s.input("cidrBlock")) for s in rec.of_type(SUBNET)]
    assert all(b.subnet_of(vpc) for b in blocks)
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"


def test_vpc_resolves_dns(rec: Recording) -> None:
    vpc = rec.one("aws:ec2/vpc:Vpc")
    assert vpc.input("enableDnsSupport") is True
    assert vpc.input("enableDnsHostnames") is True


def test_rnf_s_04_default_security_group_has_no_rules(rec: Recording) -> None:
    sg = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not sg.input("ingress")
    assert not sg.input("egress")


def test_rnf_s_04_flow_logs_capture_all_traffic_encrypted_and_retained(rec: Recording) -> None:
    flow = rec.one("aws:ec2/flowLog:FlowLog")
    assert flow.input("trafficType") == "ALL"
    assert flow.input("vpcId") == rec.one("aws:ec2/vpc:Vpc").id
    groups = [
        g
        for g in rec.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.state.get("arn") == flow.input("logDestination")
    ]
    assert len(groups) == 1, "the flow log must write to a registered log group"
    group = groups[0]
    logs_key = support.key(rec, "logs")
    assert group.input("kmsKeyId") == logs_key.state["arn"], group.urn
    minimum = 180 if rec.stack == "prod" else 1
    assert group.input("retentionInDays") >= minimum, group.urn


def test_rnf_s_04_endpoints_keep_aws_traffic_private(rec: Recording) -> None:
    endpoints = rec.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    services = {e.input("serviceName").rsplit(".", 1)[-1] for e in endpoints}
    names = {e.input("serviceName") for e in endpoints}
    assert f"com.amazonaws.{rec.outputs['region']}.s3" in names
    assert {"api", "dkr", "sts", "logs", "kms"} <= services
    app_ids = {s.id for s in subnets(rec, "app")}
    for e in endpoints:
        if e.input("vpcEndpointType") == "Interface":
            assert set(e.input("subnetIds")) == app_ids, e.urn
            assert e.input("privateDnsEnabled") is True, e.urn


def test_rnf_s_04_endpoint_security_group_admits_https_from_the_vpc_only(
    rec: Recording,
) -> None:
    rules = rec.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", f"reevo-{rec.stack}-net-endpoints-sg")
    own = [r for r in rules if r.input("securityGroupId") == sg.id]
    vpc_cidr = rec.one("aws:ec2/vpc:Vpc").input("cidrBlock")
    assert own, sg.urn
    for rule in own:
        assert (rule.input("fromPort"), rule.input("toPort")) == (443, 443), rule.urn
        assert rule.input("cidrIpv4") == vpc_cidr, rule.urn


@pytest.mark.parametrize("tier", ["app", "data"])
def test_rnf_s_04_private_tiers_exist_in_every_az(rec: Recording, tier: str) -> None:
    assert len(subnets(rec, tier)) == EXPECTED_AZS[rec.stack]
