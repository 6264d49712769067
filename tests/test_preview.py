"""The offline run a newcomer starts with: the tree, the JSON snapshot, and bad config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reevo_infra import preview
from reevo_infra.offline import Recording


def test_tree_nests_every_resource_under_its_component(rec: Recording) -> None:
    text = preview.tree(rec)
    for r in rec:
        assert f"+ {r.type}  {r.name}" in text
    assert "    + reevo:network:Network" in text
    assert "        + aws:ec2/vpc:Vpc" in text


def test_snapshot_is_deterministic_and_sorted(rec: Recording) -> None:
    first = json.dumps(preview.snapshot(rec), sort_keys=True)
    assert first == json.dumps(preview.snapshot(rec), sort_keys=True)
    urns = [r["urn"] for r in preview.snapshot(rec)["resources"]]
    assert urns == sorted(urns)


def test_main_prints_the_tree_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dev.json"
    assert preview.main(["dev", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pulumi:pulumi:Stack  reevo-dev" in printed
    assert "Resources: " in printed and "vpcId" in printed
    written = json.loads(out.read_text())
    assert written["stack"] == "dev" and written["resources"]


def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "__main__.py").write_text((root / "__main__.py").read_text())
    broken = (root / "Pulumi.dev.yaml").read_text().replace("azCount: 2", "azCount: 9")
    (tmp_path / "Pulumi.broken.yaml").write_text(broken)
    code = preview.main(["broken", "--project-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "reevo:network.azCount: Input should be less than or equal to 3" in err


def test_unknown_stack_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert preview.main(["nosuchstack"]) == 2
    assert "Pulumi.nosuchstack.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["config:\n  reevo:network: [\n", "config: [1]\n"])
def test_a_broken_stack_file_exits_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "__main__.py").write_text((root / "__main__.py").read_text())
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    assert preview.main(["broken", "--project-dir", str(tmp_path)]) == 2
    assert "Pulumi.broken.yaml: " in capsys.readouterr().err
