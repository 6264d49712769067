"""Evaluate each stack once per session under the mock engine; tests query the recording."""

from __future__ import annotations

import pytest

from reevo_infra import offline
from reevo_infra.offline import Recording

STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def recordings() -> dict[str, Recording]:
    """The real program, evaluated once for each stack with its real Pulumi.<stack>.yaml."""
    return {stack: offline.evaluate(stack) for stack in STACKS}


@pytest.fixture(scope="session", params=STACKS)
def rec(request: pytest.FixtureRequest, recordings: dict[str, Recording]) -> Recording:
    """One stack's recording; a test taking it runs once per stack."""
    return recordings[request.param]


@pytest.fixture(scope="session")
def prod(recordings: dict[str, Recording]) -> Recording:
    return recordings["prod"]


@pytest.fixture(scope="session")
def dev(recordings: dict[str, Recording]) -> Recording:
    return recordings["dev"]
