"""The delivery promises the workflow files make (issue 6), read from the YAML itself.

actionlint (run by .ci/run where it can be installed) checks the syntax and expressions;
these tests check what the workflows are for: previews with the policy pack on every pull
request, dev then an approved prod on main, and OIDC instead of stored keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(action + "@")]


def test_pull_requests_run_the_gate_then_preview_both_stacks_with_the_policy_pack() -> None:
    wf = load("pull-request.yml")
    assert "pull_request" in wf["on"]
    jobs = wf["jobs"]
    assert any(s.get("run") == "bash .ci/run" for s in jobs["check"]["steps"])
    preview = jobs["preview"]
    assert preview["needs"] == "check"
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    (pulumi,) = steps(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["comment-on-pr"] is True


def test_pull_requests_publish_the_offline_report_diagram_and_diff() -> None:
    job = load("pull-request.yml")["jobs"]["offline-review"]
    script = "\n".join(str(s.get("run", "")) for s in job["steps"])
    for command in (
        "reevo_infra.preview",
        "--report",
        "reevo_infra.diagram",
        "reevo_infra.plandiff",
        "--json",
    ):
        assert command in script
    assert steps(job, "actions/upload-artifact")
    assert steps(job, "marocchino/sticky-pull-request-comment")


def test_main_deploys_dev_then_prod_behind_the_production_environment() -> None:
    wf = load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    dev, prod = wf["jobs"]["dev"], wf["jobs"]["prod"]
    assert dev["needs"] == "check"
    assert prod["needs"] == "dev"
    assert prod["environment"] == "production"
    for job, stack in ((dev, "dev"), (prod, "prod")):
        (pulumi,) = steps(job, "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        assert pulumi["with"]["policyPacks"] == "policy"
    assert wf["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_cloud_credentials_come_from_oidc_role_assumption(name: str) -> None:
    wf = load(name)
    assert wf["permissions"]["id-token"] == "write"
    text = (WORKFLOWS / name).read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for job in wf["jobs"].values():
        if steps(job, "pulumi/actions"):
            (creds,) = steps(job, "aws-actions/configure-aws-credentials")
            assert creds["with"]["role-to-assume"]
            assert creds["with"]["aws-region"] == "sa-east-1"


@pytest.mark.parametrize("name", ["pull-request.yml", "deploy.yml"])
def test_actions_are_pinned_to_a_major_version_at_least(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.search(r"@(v\d+(\.\d+)*|[0-9a-f]{40})$", step["uses"]), step["uses"]


def test_jobs_that_reach_the_cluster_run_inside_the_vpc() -> None:
    """The EKS endpoint is private: preview and deploy jobs need a runner in the VPC."""
    for path in (WORKFLOWS / "pull-request.yml", WORKFLOWS / "deploy.yml"):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            uses_pulumi = any(
                str(step.get("uses", "")).startswith("pulumi/actions") for step in job["steps"]
            )
            if uses_pulumi:
                assert "self-hosted" in job["runs-on"], f"{path.name}: {name}"
