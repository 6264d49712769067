"""Customer-managed KMS keys (RNF-S-01) and their protection in prod (RNF-CF-03)."""

from __future__ import annotations

import json

from reevo_infra.offline import Recording
from tests import support

KEY = "aws:kms/key:Key"


def test_rnf_s_01_keys_are_symmetric_aes_256_and_rotate(rec: Recording) -> None:
    keys = rec.of_type(KEY)
    assert {k.input("tags.Purpose") for k in keys} >= {"data", "logs", "cluster"}
    for key in keys:
        # SYMMETRIC_DEFAULT is AES-256-GCM.
        assert key.input("customerMasterKeySpec") == "SYMMETRIC_DEFAULT", key.urn
        assert key.input("enableKeyRotation") is True, key.urn
        assert 90 <= key.input("rotationPeriodInDays") <= 2560, key.urn


def test_rnf_s_01_key_policy_keeps_root_as_admin(rec: Recording) -> None:
    for key in rec.of_type(KEY):
        statements = json.loads(key.input("policy"))["Statement"]
        admins = [s for s in statements if s["Action"] == "kms:*" and s["Effect"] == "Allow"]
        assert [s["Principal"] for s in admins] == [{"AWS": "arn:aws:iam::123456789012:root"}], (
            key.urn
        )


def test_rnf_s_01_cloudwatch_logs_may_use_the_logs_key(rec: Recording) -> None:
    key = support.key(rec, "logs")
    statements = json.loads(key.input("policy"))["Statement"]
    services = [s["Principal"].get("Service") for s in statements]
    assert f"logs.{rec.outputs['region']}.amazonaws.com" in services


def test_rnf_cf_03_prod_keys_are_protected(prod: Recording) -> None:
    for key in prod.of_type(KEY):
        assert key.protect, f"{key.urn} must be protected in prod"
        assert key.input("deletionWindowInDays") == 30, key.urn


def test_dev_keys_can_be_destroyed(dev: Recording) -> None:
    assert not any(k.protect for k in dev.of_type(KEY))
