"""The offline run: evaluate the real program for a stack, no cloud credentials, and show it.

    python -m reevo_infra.preview dev
    python -m reevo_infra.preview prod --json out/prod.json
    python -m reevo_infra.preview prod --report [--report-format markdown]

Prints every resource by type and name nested under its component, the count per type and
the stack outputs. Bad config exits 2 with one line per problem, before any resource exists.
`--report` prints instead every property of shared/requirements.md as PASS, FAIL or NOT
APPLICABLE with the resources behind it (reevo_infra/report.py), and exits 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from reevo_infra import offline, report
from reevo_infra.config import ConfigError
from reevo_infra.offline import Recording, Registration

SECRET = "[secret]"


def _redact(value: Any, secret: bool) -> Any:
    return SECRET if secret else value


def snapshot(rec: Recording) -> dict[str, Any]:
    """A deterministic, JSON-ready view of the recording: sorted, secrets redacted."""
    resources = []
    for r in sorted(rec.resources, key=lambda r: r.urn):
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider_urn if r.provider else "",
                "protect": r.protect,
                "dependencies": r.dependencies,
                "options": r.options,
                "inputs": {
                    k: _redact(v, k in r.secret_inputs) for k, v in sorted(r.inputs.items())
                },
            }
        )
    outputs = {k: _redact(v, k in rec.secret_outputs) for k, v in sorted(rec.outputs.items())}
    return {"stack": rec.stack, "resources": resources, "outputs": outputs}


def tree(rec: Recording) -> str:
    """Resources nested under their parents, like the first part of `pulumi preview`."""
    by_parent: dict[str, list[Registration]] = {}
    urns = {r.urn for r in rec.resources}
    for r in rec.resources:
        parent = r.parent if r.parent in urns else ""
        by_parent.setdefault(parent, []).append(r)

    lines = [f"pulumi:pulumi:Stack  {offline.PROJECT}-{rec.stack}"]

    def walk(parent: str, depth: int) -> None:
        for r in sorted(by_parent.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            lock = "  [protected]" if r.protect else ""
            lines.append(f"{'    ' * depth}+ {r.type}  {r.name}{lock}")
            walk(r.urn, depth + 1)

    walk("", 1)
    return "\n".join(lines)


def summary(rec: Recording) -> str:
    counts = Counter(r.type for r in rec.resources)
    width = max(len(t) for t in counts)
    lines = [f"Resources: {len(rec.resources)}"]
    lines += [f"    {t:<{width}}  {n}" for t, n in sorted(counts.items())]
    lines.append("Outputs:")
    for key, value in sorted(rec.outputs.items()):
        shown = SECRET if key in rec.secret_outputs else json.dumps(value, sort_keys=True)
        lines.append(f"    {key}: {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reevo_infra.preview",
        description="Evaluate the Pulumi program for a stack offline, under the mock engine.",
    )
    parser.add_argument("stack", help="stack name; its config is read from Pulumi.<stack>.yaml")
    parser.add_argument(
        "--json",
        metavar="FILE",
        type=Path,
        help="also write every resource with its inputs and options",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=offline.PROJECT_DIR,
        help="folder holding __main__.py and the stack files",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the requirement report instead; exit 1 on any FAIL",
    )
    parser.add_argument(
        "--report-format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal, markdown for a pull-request comment",
    )
    args = parser.parse_args(argv)

    try:
        rec = offline.evaluate(args.stack, project_dir=args.project_dir)
    except ConfigError as err:
        print(f"error: {args.stack}: {err}", file=sys.stderr)
        return 2
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(snapshot(rec), indent=2, sort_keys=True) + "\n")
    if args.report:
        body, code = report.render(rec, args.report_format)
        print(body)
        return code

    print(tree(rec))
    print()
    print(summary(rec))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
