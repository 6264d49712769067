"""The plan diff between two `--json` snapshots: adds, removes, property changes, replacements."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reevo_infra import plandiff, preview
from reevo_infra.offline import Recording


def _snapshot(rec: Recording) -> dict[str, Any]:
    # A JSON round trip, as the command line reads it back from a file.
    return json.loads(json.dumps(preview.snapshot(rec)))


def _resource(snap: dict[str, Any], typ: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in snap["resources"] if r["type"] == typ and name in (None, r["name"])]
    assert found, f"no {typ} {name or ''} in the {snap['stack']} snapshot"
    return found[0]


def test_diff_of_a_snapshot_with_itself_is_empty(rec: Recording) -> None:
    snap = _snapshot(rec)
    plan = plandiff.diff(snap, copy.deepcopy(snap))
    assert plan.empty, plandiff.to_text(plan)
    assert plandiff.to_text(plan) == f"Stack {rec.stack}: no changes."


def test_diff_finds_a_changed_property_an_added_and_a_removed_resource(dev: Recording) -> None:
    base = _snapshot(dev)
    head = copy.deepcopy(base)
    vpc = _resource(head, "aws:ec2/vpc:Vpc")
    old_name = vpc["inputs"]["tags"]["Name"]
    vpc["inputs"]["tags"]["Name"] = "renamed"
    removed = _resource(head, "aws:ec2/internetGateway:InternetGateway")
    head["resources"].remove(removed)
    added = copy.deepcopy(_resource(head, "aws:ec2/subnet:Subnet"))
    added.update(urn=added["urn"] + "-extra", name=added["name"] + "-extra")
    head["resources"].append(added)

    plan = plandiff.diff(base, head)
    by_urn = {r.urn: r for r in plan.resources}
    assert [r.urn for r in plan.resources] == sorted(by_urn)
    assert by_urn[added["urn"]].op == "+"
    assert by_urn[removed["urn"]].op == "-"
    changed = by_urn[vpc["urn"]]
    assert changed.op == "~"
    assert [(c.path, c.old, c.new) for c in changed.changes] == [("tags.Name", old_name, "renamed")]
    assert len(plan.resources) == 3, plandiff.to_text(plan)
    text = plandiff.to_text(plan)
    assert f'~ tags.Name: "{old_name}" -> "renamed"' in text
    assert "1 to add, 1 to change, 1 to remove, 0 to replace" in text


def test_diff_names_nested_paths_inside_policy_documents(dev: Recording) -> None:
    base = _snapshot(dev)
    head = copy.deepcopy(base)
    role = _resource(head, "aws:iam/role:Role")
    policy = json.loads(role["inputs"]["assumeRolePolicy"])
    policy["Statement"][0]["Effect"] = "Deny"
    role["inputs"]["assumeRolePolicy"] = json.dumps(policy)
    (changed,) = plandiff.diff(base, head).resources
    assert [c.path for c in changed.changes] == ["assumeRolePolicy.Statement[0].Effect"]


def test_diff_flags_a_replacement_forcing_change_to_a_stateful_resource(rec: Recording) -> None:
    base = _snapshot(rec)
    head = copy.deepcopy(base)
    key = _resource(head, "aws:kms/key:Key")
    key["inputs"]["customerMasterKeySpec"] = "RSA_4096"
    key["inputs"]["description"] = "reworded"

    (changed,) = plandiff.diff(base, head).resources
    assert changed.stateful == "KMS key" and changed.replaced, key["urn"]
    replaced = {c.path: bool(c.replaces) for c in changed.changes}
    assert replaced == {"customerMasterKeySpec": True, "description": False}, key["urn"]
    plan = plandiff.diff(base, head)
    assert plan.warnings() == [f"REPLACE KMS key {key['name']}: customerMasterKeySpec"]
    assert "forces replacement" in plandiff.to_markdown(plan)


def test_diff_flags_an_in_place_change_and_a_removal_of_stateful_resources(
    rec: Recording,
) -> None:
    base = _snapshot(rec)
    head = copy.deepcopy(base)
    group = _resource(head, "aws:cloudwatch/logGroup:LogGroup")
    group["inputs"]["retentionInDays"] = 1
    key = _resource(head, "aws:kms/key:Key")
    head["resources"].remove(key)

    warnings = plandiff.diff(base, head).warnings()
    assert f"UPDATE log group {group['name']}" in warnings
    assert f"DELETE KMS key {key['name']}" in warnings


def test_transit_encryption_replaces_a_cache_only_before_engine_7_0_5() -> None:
    def cache(version: str, transit: bool) -> dict[str, Any]:
        return {
            "stack": "t",
            "outputs": {},
            "resources": [
                {
                    "urn": "urn:cache",
                    "type": "aws:elasticache/replicationGroup:ReplicationGroup",
                    "name": "cache",
                    "inputs": {"engineVersion": version, "transitEncryptionEnabled": transit},
                }
            ],
        }

    for version, replaces in (("6.2", True), ("7.0.4", True), ("7.1", False), ("8.0", False)):
        (r,) = plandiff.diff(cache(version, False), cache(version, True)).resources
        assert r.replaced is replaces, version


def test_replace_on_changes_option_is_honoured(dev: Recording) -> None:
    base = _snapshot(dev)
    head = copy.deepcopy(base)
    subnet = _resource(head, "aws:ec2/subnet:Subnet")
    subnet["options"]["replaceOnChanges"] = ["cidrBlock"]
    subnet["inputs"]["cidrBlock"] = "10.99.0.0/24"
    (changed,) = plandiff.diff(base, head).resources
    forced = [c.path for c in changed.changes if c.replaces]
    assert forced == ["cidrBlock"], subnet["urn"]


def test_main_exit_status_and_formats(
    dev: Recording, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _snapshot(dev)
    head = copy.deepcopy(base)
    head["outputs"]["region"] = "us-east-1"
    files = {}
    for name, snap in (("base", base), ("head", head)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(snap))

    assert plandiff.main([str(files["base"]), str(files["base"])]) == 0
    assert plandiff.main([str(files["base"]), str(files["head"]), "--format", "markdown"]) == 1
    printed = capsys.readouterr().out
    assert "```diff" in printed and '~ region: "sa-east-1" -> "us-east-1"' in printed
    assert plandiff.main([str(files["base"]), str(tmp_path / "missing.json")]) == 2


def test_input_that_is_not_a_snapshot_is_refused_by_file(
    tmp_path: Path, dev: Recording, prod: Recording, capsys: pytest.CaptureFixture[str]
) -> None:
    good, other, empty = (tmp_path / n for n in ("dev.json", "prod.json", "empty.json"))
    good.write_text(json.dumps(preview.snapshot(dev)))
    other.write_text(json.dumps(preview.snapshot(prod)))
    empty.write_text("{}")
    assert plandiff.main([str(good), str(empty)]) == 2
    assert f"{empty}: not a `preview --json` snapshot" in capsys.readouterr().err
    assert plandiff.main([str(good), str(other)]) == 2
    assert "compare one stack with itself" in capsys.readouterr().err
