"""The mock engine the tests stand on: it answers only what it knows, and records options."""

from __future__ import annotations

import pytest
from pulumi.runtime.mocks import MockCallArgs

from reevo_infra.offline import FakeCloud, Recording, UnmockedInvokeError


def test_an_unknown_invoke_fails_loudly() -> None:
    with pytest.raises(UnmockedInvokeError, match="aws:ec2/getAmi:getAmi"):
        FakeCloud("sa-east-1").call(MockCallArgs("aws:ec2/getAmi:getAmi", {}, ""))


def test_zones_belong_to_the_configured_region() -> None:
    names, _ = FakeCloud("us-east-2").call(
        MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, "")
    )
    assert all(n.startswith("us-east-2") for n in names["names"])


def test_recording_keeps_the_engine_visible_options(prod: Recording) -> None:
    db = prod.one("aws:rds/instance:Instance")
    assert db.protect
    assert db.provider_urn == prod.one("pulumi:providers:aws").urn
    assert any(d.endswith("-db-params") for d in db.dependencies)
    assert db.id and db.state["arn"].startswith("arn:aws:rds:sa-east-1:123456789012:db:")
