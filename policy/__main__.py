"""The policy pack: every property of shared/requirements.md, mandatory at preview and up."""

import sys
from pathlib import Path

# The checks live in the project package (reevo_infra/requirements.py), one definition shared
# with the tests and the offline report. The CLI runs this folder with its own virtualenv, so
# the repository root goes on the path instead of installing a second copy of the package.
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402
from requirement_policies import POLICIES  # noqa: E402

PolicyPack(
    name="reevo-requirements",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="shared/requirements.md, checked by reevo_infra.requirements",
)
