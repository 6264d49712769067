"""The Database component, read from what each stack registers."""

from __future__ import annotations

import re

from reevo_infra.offline import Recording, Registration
from reevo_infra.windows import length_minutes, overlap
from tests import support

INSTANCE = "aws:rds/instance:Instance"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KEY = "aws:kms/key:Key"
SNAPSHOT_ID = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")


def _db(rec: Recording) -> Registration:
    return rec.one(INSTANCE)


def test_rnf_cf_01_database_is_multi_az_in_prod(prod: Recording) -> None:
    db = _db(prod)
    assert db.input("multiAz") is True, db.urn
    assert db.input("availabilityZone") is None, f"{db.urn} pins an AZ"


def test_rnf_cf_03_backups_are_kept_long_enough(rec: Recording) -> None:
    db = _db(rec)
    floor = 7 if rec.stack == "prod" else 1
    assert db.input("backupRetentionPeriod") >= floor, db.urn


def test_rnf_cf_03_backup_and_maintenance_windows_are_valid_and_apart(rec: Recording) -> None:
    db = _db(rec)
    backup, maintenance = db.input("backupWindow"), db.input("maintenanceWindow")
    assert length_minutes(backup) >= 30 and length_minutes(maintenance) >= 30, db.urn
    assert not overlap(backup, maintenance), db.urn


def test_rnf_cf_03_prod_deletion_protection_and_final_snapshot(prod: Recording) -> None:
    db = _db(prod)
    assert db.input("deletionProtection") is True, db.urn
    assert db.input("skipFinalSnapshot") is False, db.urn
    snapshot = db.input("finalSnapshotIdentifier")
    assert snapshot == f"{db.input('identifier')}-final", db.urn
    assert SNAPSHOT_ID.match(snapshot), f"{db.urn}: {snapshot!r} is not a snapshot id"


def test_rnf_cf_03_final_snapshot_always_has_an_identifier(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("skipFinalSnapshot") or db.input("finalSnapshotIdentifier"), db.urn


def test_rnf_cf_03_tags_are_copied_to_snapshots(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("copyTagsToSnapshot") is True, db.urn


def test_rnf_cf_03_prod_database_and_its_key_are_protected(prod: Recording) -> None:
    db = _db(prod)
    assert db.protect, db.urn
    key = support.key(prod, "data")
    assert key.urn in db.dependencies, db.urn
    assert key.protect, key.urn


def test_rnf_s_01_storage_is_gp3_encrypted_with_the_data_key(rec: Recording) -> None:
    db, key = _db(rec), support.key(rec, "data")
    assert db.input("storageType") == "gp3", db.urn
    assert db.input("storageEncrypted") is True, db.urn
    assert db.input("kmsKeyId") == key.state["arn"], db.urn


def test_rnf_s_01_performance_insights_use_the_data_key(rec: Recording) -> None:
    db, key = _db(rec), support.key(rec, "data")
    assert db.input("performanceInsightsEnabled") is True, db.urn
    assert db.input("performanceInsightsKmsKeyId") == key.state["arn"], db.urn


def test_rnf_s_01_master_secret_is_rds_managed_with_the_data_key(rec: Recording) -> None:
    db, key = _db(rec), support.key(rec, "data")
    assert db.input("manageMasterUserPassword") is True, db.urn
    assert db.input("masterUserSecretKmsKeyId") == key.state["arn"], db.urn
    assert not [k for k in db.inputs if "password" in k.lower() and k != "manageMasterUserPassword"]


def test_rnf_s_04_database_lives_in_every_data_subnet_only(rec: Recording) -> None:
    db = _db(rec)
    group = support.named(rec, SUBNET_GROUP, db.input("dbSubnetGroupName"))
    subnets = [rec.by_id("aws:ec2/subnet:Subnet", s) for s in group.input("subnetIds")]
    assert {s.input("tags.Tier") for s in subnets} == {"data"}, group.urn
    zones = {s.input("availabilityZone") for s in subnets}
    assert len(zones) == len(rec.outputs["dataSubnetIds"]) == len(subnets), group.urn


def test_rnf_s_04_database_is_not_publicly_accessible(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("publiclyAccessible") is False, db.urn


def test_rnf_s_04_parameter_group_forces_tls_and_logs_slow_statements(rec: Recording) -> None:
    db = _db(rec)
    group = support.named(rec, PARAMETER_GROUP, db.input("parameterGroupName"))
    assert group.input("family") == f"postgres{db.input('engineVersion')}", group.urn
    params = {p["name"]: p["value"] for p in group.input("parameters")}
    assert params.get("rds.force_ssl") == "1", group.urn
    assert int(params.get("log_min_duration_statement", "-1")) > 0, group.urn


def test_rnf_s_04_engine_major_is_pinned_and_minors_upgrade(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("engine") == "postgres", db.urn
    assert db.input("engineVersion") in ("16", "17"), db.urn
    assert db.input("autoMinorVersionUpgrade") is True, db.urn


def test_rnf_s_04_iam_auth_monitoring_and_log_exports(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("iamDatabaseAuthenticationEnabled") is True, db.urn
    assert set(db.input("enabledCloudwatchLogsExports")) == {"postgresql", "upgrade"}, db.urn
    assert db.input("monitoringInterval") > 0, db.urn
    [role] = [
        r
        for r in rec.of_type("aws:iam/role:Role")
        if r.state.get("arn") == db.input("monitoringRoleArn")
    ]
    assert "monitoring.rds.amazonaws.com" in role.input("assumeRolePolicy"), role.urn
    policies = [
        a.input("policyArn")
        for a in rec.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.parent == role.parent
    ]
    assert any(p.endswith("/AmazonRDSEnhancedMonitoringRole") for p in policies), role.urn


def test_rnf_ed_01_storage_grows_automatically(rec: Recording) -> None:
    db = _db(rec)
    assert db.input("maxAllocatedStorage") > db.input("allocatedStorage"), db.urn


def test_rnf_s_04_stack_exports_database_secret_arn_not_value(rec: Recording) -> None:
    arn = rec.outputs["databaseSecretArn"]
    assert arn.startswith("arn:aws:secretsmanager:"), arn
    assert not [k for k in rec.outputs if "password" in k.lower()]


def test_rnf_s_04_database_logs_are_encrypted_and_retained(rec: Recording) -> None:
    db = rec.one(INSTANCE)
    logs_key = support.key(rec, "logs").state["arn"]
    groups = {g.input("name"): g for g in rec.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for export in db.input("enabledCloudwatchLogsExports"):
        group = groups[f"/aws/rds/instance/{db.input('identifier')}/{export}"]
        assert group.input("kmsKeyId") == logs_key, group.urn
        minimum = 180 if rec.stack == "prod" else 1
        assert minimum <= group.input("retentionInDays") <= 3653, group.urn
        assert group.urn in db.dependencies, "RDS must find its log group already made"
