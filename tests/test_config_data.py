"""Config rules for the data tier: prod invariants and what AWS would reject at deploy time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reevo_infra import config, offline
from reevo_infra.config import ConfigError, StackConfig


def _raw(stack: str, **sections: dict[str, Any]) -> dict[str, Any]:
    """The stack file's config as `config.parse` takes it, with sections' keys overridden."""
    flat = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in offline.stack_config(stack).items()
    }
    raw = config.raw_from_flat(flat)
    for section, values in sections.items():
        raw[section] = {**raw.get(section, {}), **values}
    return raw


def _rejects(raw: dict[str, Any], key: str, *words: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.parse(raw)
    lines = [p for p in err.value.problems if key in p]
    assert lines, f"no problem names {key}: {err.value.problems}"
    for word in words:
        assert any(word in line for line in lines), f"{word!r} not in {lines}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_and_defaults_are_valid(stack: str) -> None:
    cfg = config.parse(_raw(stack))
    assert isinstance(cfg, StackConfig)
    config.parse({**_raw(stack), "database": {}, "cache": _raw(stack)["cache"]})


def test_rnf_cf_01_prod_database_must_be_multi_az() -> None:
    _rejects(_raw("prod", database={"multiAz": False}), "reevo:database.multiAz", "RNF-CF-01")


def test_rnf_cf_03_prod_backups_kept_at_least_7_days() -> None:
    _rejects(
        _raw("prod", database={"backupRetentionDays": 6}),
        "reevo:database.backupRetentionDays",
        "RNF-CF-03",
    )


def test_rnf_cf_03_every_stack_keeps_backups() -> None:
    _rejects(
        _raw("dev", database={"backupRetentionDays": 0}),
        "reevo:database.backupRetentionDays",
        "point-in-time",
    )


def test_rnf_cf_03_prod_needs_deletion_protection() -> None:
    _rejects(
        _raw("prod", database={"deletionProtection": False}),
        "reevo:database.deletionProtection",
        "RNF-CF-03",
    )


def test_rnf_cf_03_prod_needs_a_final_snapshot() -> None:
    _rejects(
        _raw("prod", database={"finalSnapshot": False}), "reevo:database.finalSnapshot", "RNF-CF-03"
    )


def test_rnf_cf_01_prod_cache_needs_two_nodes() -> None:
    _rejects(
        _raw("prod", cache={"numCacheClusters": 1}), "reevo:cache.numCacheClusters", "RNF-CF-01"
    )


def test_rnf_cf_01_prod_cache_needs_failover() -> None:
    _rejects(
        _raw("prod", cache={"automaticFailover": False, "multiAz": False}),
        "reevo:cache.automaticFailover",
        "RNF-CF-01",
    )


def test_rnf_cf_01_prod_cache_needs_multi_az() -> None:
    _rejects(_raw("prod", cache={"multiAz": False}), "reevo:cache.multiAz", "RNF-CF-01")


def test_rnf_cf_03_prod_cache_keeps_snapshots_7_days() -> None:
    _rejects(
        _raw("prod", cache={"snapshotRetentionDays": 3}),
        "reevo:cache.snapshotRetentionDays",
        "RNF-CF-03",
    )


def test_aws_auth_token_needs_transit_encryption() -> None:
    _rejects(
        _raw("dev", cache={"transitEncryption": False}),
        "reevo:cache.transitEncryption",
        "AUTH token",
    )


def test_aws_failover_needs_two_nodes() -> None:
    _rejects(
        _raw("dev", cache={"automaticFailover": True, "numCacheClusters": 1}),
        "reevo:cache.automaticFailover",
        ">= 2",
    )


def test_aws_multi_az_needs_failover() -> None:
    _rejects(
        _raw("dev", cache={"multiAz": True, "numCacheClusters": 2}),
        "reevo:cache.multiAz",
        "automaticFailover",
    )


@pytest.mark.parametrize("key", ["password", "masterPassword", "masterUserPassword"])
def test_aws_managed_master_password_excludes_a_password(key: str) -> None:
    _rejects(
        _raw("dev", database={key: "hunter2hunter2"}),
        "reevo:database",
        key,
        "manageMasterUserPassword",
    )


def test_rnf_ed_01_storage_ceiling_above_allocation() -> None:
    _rejects(
        _raw("dev", database={"allocatedStorage": 100, "maxAllocatedStorage": 100}),
        "reevo:database.maxAllocatedStorage",
        "RNF-ED-01",
    )


@pytest.mark.parametrize("version", ["14", "15", "17.2", "18"])
def test_aws_postgres_major_is_16_or_17(version: str) -> None:
    _rejects(_raw("dev", database={"engineVersion": version}), "reevo:database.engineVersion")


@pytest.mark.parametrize("version", ["7.0", "7.1", "8", "9.0"])
def test_aws_valkey_version_has_a_known_family(version: str) -> None:
    _rejects(_raw("dev", cache={"engineVersion": version}), "reevo:cache.engineVersion")


@pytest.mark.parametrize("days", [7, 31, 93, 713, 731])
def test_aws_performance_insights_retention_accepts_valid_values(days: int) -> None:
    config.parse(_raw("prod", database={"performanceInsightsRetentionDays": days}))


@pytest.mark.parametrize("days", [0, 14, 94, 744])
def test_aws_performance_insights_retention_rejects_others(days: int) -> None:
    _rejects(
        _raw("prod", database={"performanceInsightsRetentionDays": days}),
        "reevo:database.performanceInsightsRetentionDays",
    )


@pytest.mark.parametrize("klass", ["db.t4g.micro", "db.t3.small", "db.t4g.small"])
def test_rnf_s_01_performance_insights_needs_a_supported_class(klass: str) -> None:
    _rejects(
        _raw("dev", database={"instanceClass": klass}),
        "reevo:database.instanceClass",
        "Performance Insights",
    )


def test_aws_database_windows_must_not_overlap() -> None:
    _rejects(
        _raw("dev", database={"backupWindow": "06:00-07:00"}),
        "reevo:database.maintenanceWindow",
        "overlapping",
    )


def test_aws_database_windows_last_30_minutes() -> None:
    _rejects(
        _raw("dev", database={"backupWindow": "05:00-05:20"}),
        "reevo:database.backupWindow",
        "30 minutes",
    )


def test_aws_cache_windows_must_not_overlap() -> None:
    _rejects(
        _raw("dev", cache={"snapshotWindow": "07:00-08:00"}),
        "reevo:cache.maintenanceWindow",
        "overlapping",
    )


def test_aws_cache_windows_last_60_minutes() -> None:
    _rejects(
        _raw("dev", cache={"maintenanceWindow": "sun:07:30-sun:08:00"}),
        "reevo:cache.maintenanceWindow",
        "60 minutes",
    )
