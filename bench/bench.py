"""Wall time of evaluating each stack in-process, and of the whole test suite.

    .venv/bin/python bench/bench.py

Targets on a 2-core machine: a stack evaluates in under 3 s; the suite runs in under 30 s.
The first evaluation pays for importing the provider SDKs; later ones show the program alone.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reevo_infra import offline  # noqa: E402  (needs the path above)


def timed(label: str, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    extra = f"  ({len(result.resources)} resources)" if hasattr(result, "resources") else ""
    print(f"{label:<34} {elapsed:6.2f} s{extra}")
    return elapsed


def main() -> int:
    start = time.perf_counter()
    import pulumi_aws  # noqa: F401
    import pulumi_kubernetes  # noqa: F401

    print(f"{'import provider SDKs':<34} {time.perf_counter() - start:6.2f} s")
    for stack in ("dev", "prod"):
        timed(f"evaluate {stack} (first)", lambda s=stack: offline.evaluate(s))
    for stack in ("dev", "prod"):
        timed(f"evaluate {stack} (again)", lambda s=stack: offline.evaluate(s))

    # Evaluation cost per service should stay flat: each service adds the same objects.
    base = offline.stack_config("dev")
    for count in (3, 6, 12, 24):
        services = [
            {"name": f"svc{i}", "imageTag": "0.1.0", "minReplicas": 1, "maxReplicas": 3}
            for i in range(count)
        ]
        config = {**base, "reevo:services": services}
        timed(
            f"evaluate dev with {count:>2} services",
            lambda c=config: offline.evaluate("dev", config=c),
        )

    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-200:]
    print(f"{'test suite (subprocess)':<34} {elapsed:6.2f} s  ({last})")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
