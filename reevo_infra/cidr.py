"""The subnet plan: every subnet's block, derived from the VPC block alone (no Pulumi here)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MIN_VPC_PREFIX = 16
MAX_VPC_PREFIX = 20
MAX_AZS = 3
TIERS = ("public", "app", "data")


@dataclass(frozen=True)
class SubnetPlan:
    """One block per AZ for each tier, in AZ order."""

    public: tuple[ipaddress.IPv4Network, ...]
    app: tuple[ipaddress.IPv4Network, ...]
    data: tuple[ipaddress.IPv4Network, ...]

    def tier(self, name: str) -> tuple[ipaddress.IPv4Network, ...]:
        return tuple(getattr(self, name))

    def all(self) -> list[ipaddress.IPv4Network]:
        return [*self.public, *self.app, *self.data]


def plan(vpc: ipaddress.IPv4Network, az_count: int) -> SubnetPlan:
    """Split `vpc` into public, app and data subnets for `az_count` AZs.

    The first three quarters of the block go to the app tier, one quarter per AZ, because
    the VPC CNI gives every pod an address from its node's subnet. The last quarter is cut
    into eighths: the first three for public subnets, the next-but-one three for data.
    The fourth quarter's spare eighths leave room for a fourth AZ's small subnets later.
    """
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(f"VPC prefix /{vpc.prefixlen} is outside /16-/20")
    if not 1 <= az_count <= MAX_AZS:
        raise ValueError(f"az_count {az_count} is outside 1-{MAX_AZS}")
    quarters = list(vpc.subnets(prefixlen_diff=2))
    eighths = list(quarters[3].subnets(prefixlen_diff=3))
    return SubnetPlan(
        public=tuple(eighths[:az_count]),
        app=tuple(quarters[:az_count]),
        data=tuple(eighths[4 : 4 + az_count]),
    )
