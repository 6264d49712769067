"""The requirement report: every property of shared/requirements.md judged on a recording.

Text for the terminal, Markdown for a pull-request comment. A property whose resources the
stack does not register yet is NOT APPLICABLE, never PASS, and says which type it waits for.
"""

from __future__ import annotations

from collections.abc import Sequence

from reevo_infra.offline import Recording
from reevo_infra.requirements import REQUIREMENTS, Outcome, Resource, evaluate

SHOWN = 6
"""Satisfying resources listed per property before the rest are counted."""


def resources_of(rec: Recording) -> list[Resource]:
    """The recording as the checks see it: inputs over the fake cloud's outputs, with ids."""
    return [
        Resource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props={**r.state, **r.inputs},
            protect=r.protect,
            parent=r.parent,
            provider=r.provider_urn if r.provider else "",
            id=r.id,
        )
        for r in rec.resources
    ]


def outcomes(rec: Recording) -> list[Outcome]:
    return evaluate(resources_of(rec))


def failed(results: Sequence[Outcome]) -> list[Outcome]:
    return [o for o in results if o.status == "FAIL"]


def short(urn: str) -> str:
    """`type name` from a URN, without the parent-type chain."""
    _, _, typ, name = urn.split("::", 3)
    return f"{typ.rsplit('$', 1)[-1]} {name}"


def _counts(results: Sequence[Outcome]) -> str:
    return ", ".join(
        f"{sum(o.status == s for o in results)} {s}" for s in ("PASS", "FAIL", "NOT APPLICABLE")
    )


def _satisfied(o: Outcome) -> list[str]:
    names = [short(u) for u in o.passed[:SHOWN]]
    if len(o.passed) > SHOWN:
        names.append(f"... and {len(o.passed) - SHOWN} more")
    return names


def render(rec: Recording, fmt: str = "text") -> tuple[str, int]:
    """The report for `rec` in `fmt` (text or markdown) and the exit code: 1 on any FAIL."""
    results = outcomes(rec)
    body = (markdown if fmt == "markdown" else text)(rec.stack, results)
    return body, 1 if failed(results) else 0


def text(stack: str, results: Sequence[Outcome]) -> str:
    lines = [f"Requirement report for stack {stack}: {_counts(results)}"]
    for req in REQUIREMENTS:
        lines += ["", req]
        for o in (o for o in results if o.prop.requirement == req):
            lines.append(f"  {o.status:<14}  {o.prop.key}: {o.prop.title}")
            lines += [f"      broken by {short(urn)}: {why}" for urn, why in o.failed]
            lines += [f"      satisfied by {name}" for name in _satisfied(o)]
            if o.note:
                lines.append(f"      {o.note}")
    return "\n".join(lines)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(stack: str, results: Sequence[Outcome]) -> str:
    icon = {"PASS": "PASS", "FAIL": "**FAIL**", "NOT APPLICABLE": "n/a"}
    lines = [
        f"### Requirement report: `{stack}`",
        "",
        _counts(results),
        "",
        "| Requirement | Property | Status | Resources |",
        "| --- | --- | --- | --- |",
    ]
    for o in results:
        detail = [f"`{short(u)}`: {why}" for u, why in o.failed]
        if not detail:
            detail = [f"`{n}`" for n in _satisfied(o)] or [o.note]
        lines.append(
            f"| {o.prop.requirement} | {_cell(o.prop.key)}: {_cell(o.prop.title)} "
            f"| {icon[o.status]} | {_cell('<br>'.join(detail))} |"
        )
    return "\n".join(lines)
