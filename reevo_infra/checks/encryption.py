"""Checks for RNF-S-01: every store of data encrypted at rest with a customer-managed key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reevo_infra.checks.view import (
    BUCKET,
    BUCKET_SSE,
    CACHE,
    ECR,
    EKS,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    NODE_GROUP,
    RDS,
    SECRET,
    SNS,
    Finding,
    Resource,
    get,
    ident,
    items,
    of_type,
    on,
)


def _customer_key(value: Any) -> bool:
    # An AWS-managed key (alias/aws/...) cannot be audited or revoked per purpose.
    return isinstance(value, str) and bool(value) and "alias/aws/" not in value


def kms_keys(_t: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []
    if props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        problems.append("customerMasterKeySpec is not SYMMETRIC_DEFAULT (AES-256)")
    if not on(props.get("enableKeyRotation")):
        problems.append("enableKeyRotation is not true")
    return "; ".join(problems) or None


def customer_key_encryption(typ: str, props: Mapping[str, Any], _env: str) -> str | None:
    problems = []

    def need_key(path: str) -> None:
        if not _customer_key(get(props, path)):
            problems.append(f"{path} is not a customer-managed key")

    if typ == RDS:
        if not on(props.get("storageEncrypted")):
            problems.append("storageEncrypted is not true")
        need_key("kmsKeyId")
        if on(props.get("performanceInsightsEnabled")):
            need_key("performanceInsightsKmsKeyId")
    elif typ == CACHE:
        if not on(props.get("atRestEncryptionEnabled")):
            problems.append("atRestEncryptionEnabled is not true")
        need_key("kmsKeyId")
    elif typ == EKS:
        configs = items(props.get("encryptionConfig"))
        if not any("secrets" in items(get(e, "resources")) for e in configs):
            problems.append("encryptionConfig does not cover secrets")
        need_key("encryptionConfig.provider.keyArn")
    elif typ == NODE_GROUP:
        # Node volumes are encrypted by the launch template; without one EKS picks the
        # account default, which may be unencrypted or AWS-managed.
        if not get(props, "launchTemplate"):
            problems.append("no launchTemplate: node volumes miss the customer key")
    elif typ == LAUNCH_TEMPLATE:
        mappings = items(props.get("blockDeviceMappings"))
        if not mappings:
            problems.append("no blockDeviceMappings: root volume encryption is not set")
        for i, m in enumerate(mappings):
            if not on(get(m, "ebs.encrypted")):
                problems.append(f"blockDeviceMappings.{i}.ebs.encrypted is not true")
            if not _customer_key(get(m, "ebs.kmsKeyId")):
                problems.append(f"blockDeviceMappings.{i}.ebs.kmsKeyId is not a customer key")
    elif typ in (LOG_GROUP, SECRET):
        need_key("kmsKeyId")
    elif typ == ECR:
        if get(props, "encryptionConfigurations.0.encryptionType") != "KMS":
            problems.append("encryptionConfigurations.0.encryptionType is not KMS")
        need_key("encryptionConfigurations.0.kmsKey")
    elif typ == SNS:
        need_key("kmsMasterKeyId")
    return "; ".join(problems) or None


def buckets_encrypted(resources: Sequence[Resource]) -> list[Finding]:
    found = []
    for bucket in of_type(resources, BUCKET):
        names = {ident(bucket), str(bucket.props.get("bucket") or "")} - {""}
        ok = False
        for sse in of_type(resources, BUCKET_SSE):
            if sse.props.get("bucket") in names:
                ok = any(
                    get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms"
                    and _customer_key(
                        get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
                    )
                    for rule in items(sse.props.get("rules"))
                )
        found.append(Finding(bucket.urn, ok, "" if ok else "no SSE-KMS with a customer key"))
    return found
