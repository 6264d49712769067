"""The subnet plan, as plain logic: exact values and properties that hold for any VPC."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reevo_infra import cidr


def test_plan_for_a_slash_16_in_three_azs() -> None:
    plan = cidr.plan(ipaddress.IPv4Network("10.20.0.0/16"), 3)
    assert [str(n) for n in plan.app] == ["10.20.0.0/18", "10.20.64.0/18", "10.20.128.0/18"]
    assert [str(n) for n in plan.public] == ["10.20.192.0/21", "10.20.200.0/21", "10.20.208.0/21"]
    assert [str(n) for n in plan.data] == ["10.20.224.0/21", "10.20.232.0/21", "10.20.240.0/21"]


vpcs = st.builds(
    lambda addr, prefix: ipaddress.IPv4Network((addr, prefix), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(cidr.MIN_VPC_PREFIX, cidr.MAX_VPC_PREFIX),
)


@given(vpc=vpcs, azs=st.integers(1, cidr.MAX_AZS))
def test_no_two_subnets_overlap(vpc: ipaddress.IPv4Network, azs: int) -> None:
    blocks = cidr.plan(vpc, azs).all()
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert not a.overlaps(b)


@given(vpc=vpcs, azs=st.integers(1, cidr.MAX_AZS))
def test_every_subnet_is_inside_the_vpc(vpc: ipaddress.IPv4Network, azs: int) -> None:
    assert all(block.subnet_of(vpc) for block in cidr.plan(vpc, azs).all())


@given(vpc=vpcs, azs=st.integers(1, cidr.MAX_AZS))
def test_one_subnet_per_az_per_tier(vpc: ipaddress.IPv4Network, azs: int) -> None:
    plan = cidr.plan(vpc, azs)
    assert [len(plan.tier(t)) for t in cidr.TIERS] == [azs, azs, azs]


@pytest.mark.parametrize("prefix", [8, 15, 21, 28])
def test_vpc_sizes_outside_the_plan_are_refused(prefix: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        cidr.plan(ipaddress.IPv4Network(f"10.0.0.0/{prefix}"), 2)
