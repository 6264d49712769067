"""Pulumi.yaml as the Pulumi CLI reads it: valid, and in step with the config model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reevo_infra import config, offline

ROOT = Path(__file__).resolve().parent.parent


def project() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "Pulumi.yaml").read_text()))


def test_config_namespace_is_the_project_name() -> None:
    # The CLI refuses a typed declaration outside the project's own namespace.
    assert project()["name"] == config.NAMESPACE == offline.PROJECT


def test_declarations_follow_the_clis_rules() -> None:
    name = project()["name"]
    for key, decl in project()["config"].items():
        namespace = key.split(":", 1)[0] if ":" in key else name
        if namespace == name:
            assert decl.get("type") in (None, "string", "integer", "boolean", "array"), key
            assert decl.get("type") != "array" or "items" in decl, key
            assert not ("default" in decl and "value" in decl), key
        else:
            assert "type" not in decl and "default" not in decl and "value" in decl, key
        assert decl.get("description"), f"{key} has no description"


def test_every_model_key_is_declared_and_nothing_else() -> None:
    declared = {k.split(":", 1)[1] for k in project()["config"] if k.startswith("reevo:")}
    fields = config.StackConfig.model_fields
    model = {f.alias or name for name, f in fields.items() if name != "region"}
    assert declared == model


def test_defaults_live_in_the_model_only() -> None:
    assert not any("default" in d for d in project()["config"].values())


def test_runtime_uses_the_projects_virtualenv() -> None:
    runtime = project()["runtime"]
    assert runtime["name"] == "python"
    assert runtime["options"] == {"toolchain": "pip", "virtualenv": ".venv"}


def test_stack_files_use_only_declared_or_provider_keys() -> None:
    declared = set(project()["config"])
    for stack in ("dev", "prod"):
        for key in offline.stack_config(stack):
            assert key in declared or key == "aws:region", f"Pulumi.{stack}.yaml: {key}"
