"""The requirement report (`preview <stack> --report`): passes on both stacks, fails naming the
property and the resource on a broken config or resource, renders Markdown for a PR comment."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from reevo_infra import preview, report
from reevo_infra.checks import view as c
from reevo_infra.offline import Recording, Registration
from reevo_infra.requirements import PROPERTIES

ROOT = Path(__file__).resolve().parent.parent


def test_report_passes_on_both_stacks(rec: Recording) -> None:
    body, code = report.render(rec)
    assert code == 0, body
    for prop in PROPERTIES:
        assert f"{prop.key}: {prop.title}" in body


def test_missing_tiers_are_not_applicable_never_pass(prod: Recording) -> None:
    # On a stack without a database the RDS properties say what they wait for.
    results = {o.prop.key: o for o in report.outcomes(prod)}
    if not prod.of_type(c.RDS):
        assert results["rds-multi-az"].status == "NOT APPLICABLE"
        assert results["rds-multi-az"].note == f"no {c.RDS} registered"
    assert results["flow-logs"].status == "PASS"
    assert results["flow-logs"].passed == [prod.one(c.VPC).urn]


def test_prod_only_properties_do_not_apply_to_dev(dev: Recording) -> None:
    results = {o.prop.key: o for o in report.outcomes(dev)}
    assert results["stateful-protected"].status == "NOT APPLICABLE"
    assert "prod only" in results["stateful-protected"].note


def test_main_report_exits_0_and_prints_every_requirement(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert preview.main(["prod", "--report"]) == 0
    out = capsys.readouterr().out
    for req in (
        "RNF-CF-01",
        "RNF-CF-03",
        "RNF-ED-01",
        "RNF-S-01",
        "RNF-S-04",
        "RNF-P-01",
        "RF-CAD-002",
    ):
        assert f"\n{req}\n" in out


def test_rnf_s_04_report_fails_on_a_region_outside_brazil(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    stack = (ROOT / "Pulumi.dev.yaml").read_text().replace("sa-east-1", "us-east-1")
    (tmp_path / "Pulumi.moved.yaml").write_text(stack)
    code = preview.main(["moved", "--report", "--project-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL            region: the AWS provider deploys to sa-east-1" in out
    assert "broken by pulumi:providers:aws aws: region 'us-east-1' is outside Brazil" in out


def test_broken_config_is_refused_before_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    stack = (ROOT / "Pulumi.prod.yaml").read_text().replace("azCount: 3", "azCount: 2")
    (tmp_path / "Pulumi.prod.yaml").write_text(stack)
    assert preview.main(["prod", "--report", "--project-dir", str(tmp_path)]) == 2
    assert "reevo:network.azCount: prod needs at least 3 AZs (RNF-CF-01)" in (
        capsys.readouterr().err
    )


# ---- a broken resource per requirement, on a copy of the recording


def _with(rec: Recording, change: Callable[[list[Registration]], None]) -> Recording:
    resources = [copy.deepcopy(r) for r in rec.resources]
    change(resources)
    return dataclasses.replace(rec, resources=resources)


def _edit(rs: list[Registration], typ: str, name_part: str, **changes: object) -> None:
    i = next(i for i, r in enumerate(rs) if r.type == typ and name_part in r.name)
    rs[i] = dataclasses.replace(rs[i], **changes)  # type: ignore[arg-type]


def _hand(rs: list[Registration], typ: str, name: str, inputs: dict[str, object]) -> None:
    """A resource of a tier not on main yet, registered as its component would."""
    vpc = next(r for r in rs if r.type == c.VPC)
    rs.append(
        dataclasses.replace(
            vpc,
            urn=vpc.urn.rsplit("::", 2)[0] + f"::reevo:edge:Api${typ}::{name}",
            type=typ,
            name=name,
            id=f"{name}-id",
            inputs=inputs,
            state={},
            parent=vpc.parent,
        )
    )


def _nat_route_via_other_az(rs: list[Registration]) -> None:
    # Sorted by name: registration order is not deterministic across runs.
    a, b = sorted(
        (r for r in rs if r.type == c.ROUTE and "natGatewayId" in r.inputs), key=lambda r: r.name
    )[:2]
    _edit(rs, c.ROUTE, a.name, inputs={**a.inputs, "natGatewayId": b.inputs["natGatewayId"]})


def _unprotected_key(rs: list[Registration]) -> None:
    _edit(rs, c.KMS_KEY, "-keys-data", protect=False)


def _stage_without_throttling(rs: list[Registration]) -> None:
    _hand(rs, c.STAGE, "reevo-prod-api-v1", {"restApi": "api1", "stageName": "v1"})


def _log_group_without_key(rs: list[Registration]) -> None:
    group = next(r for r in rs if r.type == c.LOG_GROUP and r.name.endswith("-net-flow-logs"))
    _edit(
        rs,
        c.LOG_GROUP,
        group.name,
        inputs={k: v for k, v in group.inputs.items() if k != "kmsKeyId"},
        state={k: v for k, v in group.state.items() if k != "kmsKeyId"},
    )


def _vpc_outside_components(rs: list[Registration]) -> None:
    vpc = next(r for r in rs if r.type == c.VPC)
    stack_urn = next(r.parent for r in rs if not r.custom)
    _edit(rs, c.VPC, vpc.name, parent=stack_urn)


def _open_method(rs: list[Registration]) -> None:
    _hand(
        rs,
        c.METHOD,
        "reevo-prod-api-get-loans",
        {"restApi": "api1", "httpMethod": "GET", "authorization": "NONE"},
    )


def _no_flow_log(rs: list[Registration]) -> None:
    rs[:] = [r for r in rs if r.type != c.FLOW_LOG]


BROKEN = [
    ("RNF-CF-01", "nat-per-az", _nat_route_via_other_az, "reevo-prod-net-app-sa-east-1a"),
    ("RNF-CF-03", "stateful-protected", _unprotected_key, "reevo-prod-keys-data"),
    ("RNF-ED-01", "api-throttling", _stage_without_throttling, "reevo-prod-api-v1"),
    ("RNF-S-01", "customer-key-encryption", _log_group_without_key, "reevo-prod-net-flow-logs"),
    ("RNF-S-04", "flow-logs", _no_flow_log, "reevo-prod-net"),
    ("RNF-P-01", "behind-components", _vpc_outside_components, "reevo-prod-net"),
    ("RF-CAD-002", "method-authorizer", _open_method, "reevo-prod-api-get-loans"),
]


@pytest.mark.parametrize(
    ("requirement", "key", "change", "culprit"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_report_fails_naming_the_property_and_resource(
    prod: Recording,
    requirement: str,
    key: str,
    change: Callable[[list[Registration]], None],
    culprit: str,
) -> None:
    body, code = report.render(_with(prod, change))
    assert code == 1
    failing = [line for line in body.splitlines() if line.lstrip().startswith("FAIL")]
    assert f"{key}:" in [line.split()[1] for line in failing], body
    section = body.split(f"\n{requirement}\n", 1)[1]
    assert "broken by aws:" in section and f" {culprit}: " in section


def test_markdown_renders_a_table_row_per_property(prod: Recording) -> None:
    body, code = report.render(_with(prod, _open_method), "markdown")
    lines = body.splitlines()
    assert code == 1
    assert "| Requirement | Property | Status | Resources |" in lines
    assert "| --- | --- | --- | --- |" in lines
    rows = [line for line in lines if line.startswith("| R")]
    assert len(rows) == len(PROPERTIES) + 1
    bad = next(r for r in rows if "method-authorizer" in r)
    assert "**FAIL**" in bad and "reevo-prod-api-get-loans" in bad and "'NONE'" in bad
