"""Compare two `preview --json` snapshots, like the diff part of `pulumi preview`, offline.

    python -m reevo_infra.preview dev --json base/dev.json     # on the base branch
    python -m reevo_infra.preview dev --json head/dev.json     # on the pull request
    python -m reevo_infra.plandiff base/dev.json head/dev.json --format markdown

Resources are matched by URN: a new URN is an add, a vanished one a remove (a rename is both,
which is what Pulumi would do without an alias). Changed resources list every input, option and
flag that differs, by dotted path. Stateful resources and changes that make AWS replace the
resource are flagged. Secrets are redacted in snapshots, so a changed secret value is not seen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATEFUL = {
    "aws:rds/instance:Instance": "database",
    "aws:rds/cluster:Cluster": "database",
    "aws:elasticache/replicationGroup:ReplicationGroup": "cache",
    "aws:kms/key:Key": "KMS key",
    "aws:secretsmanager/secret:Secret": "secret",
    "aws:cloudwatch/logGroup:LogGroup": "log group",
    "aws:eks/cluster:Cluster": "EKS cluster",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:ecr/repository:Repository": "image repository",
}
"""Types that hold data or identity which a delete-and-create would lose or change."""

# Sources: ForceNew in the resource schemas of hashicorp/terraform-provider-aws (the provider
# pulumi-aws bridges), internal/service/<dir>/<file>.go, and the pulumi-aws v7 docstrings.
_TF = "terraform-provider-aws"

Condition = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]


def _always(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return True


def _engine_before_7_0_5(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    version = str(old.get("engineVersion") or new.get("engineVersion") or "0")
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:3]]
    return tuple(parts + [0] * (3 - len(parts))) < (7, 0, 5)


def _removed(old: Mapping[str, Any], new: Mapping[str, Any], key: str) -> bool:
    return bool(old.get(key)) and not new.get(key)


@dataclass(frozen=True)
class ForceNew:
    """An input whose change makes the provider delete and re-create the resource."""

    path: str
    source: str
    when: Condition = _always
    note: str = ""


def _each(source: str, paths: str) -> tuple[ForceNew, ...]:
    return tuple(ForceNew(path, source) for path in paths.split())


REPLACES: dict[str, tuple[ForceNew, ...]] = {
    # engineVersion is absent on purpose: a major upgrade is in place (allowMajorVersionUpgrade).
    "aws:rds/instance:Instance": _each(
        f"{_TF} rds/instance.go",
        """identifier identifierPrefix engine dbName username kmsKeyId storageEncrypted
        availabilityZone characterSetName ncharCharacterSetName timezone snapshotIdentifier
        restoreToPointInTime customIamInstanceProfile""",
    ),
    # engine is absent: the provider source read predates Valkey, so whether moving between
    # engines replaces the group could not be confirmed.
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        *_each(
            f"{_TF} elasticache/replication_group.go",
            """replicationGroupId atRestEncryptionEnabled kmsKeyId port subnetGroupName
            dataTieringEnabled globalReplicationGroupId snapshotArns snapshotName""",
        ),
        ForceNew(
            "transitEncryptionEnabled",
            "pulumi-aws v7 elasticache.ReplicationGroup docs",
            _engine_before_7_0_5,
            "only while engineVersion < 7.0.5",
        ),
    ),
    "aws:kms/key:Key": _each(f"{_TF} kms/key.go", "customerMasterKeySpec keyUsage multiRegion"),
    "aws:cloudwatch/logGroup:LogGroup": _each(f"{_TF} logs/group.go", "name namePrefix"),
    "aws:secretsmanager/secret:Secret": _each(f"{_TF} secretsmanager/secret.go", "name namePrefix"),
    # vpcConfig.subnetIds and securityGroupIds are absent: in place since provider v5.25.0.
    "aws:eks/cluster:Cluster": (
        *_each(
            f"{_TF} eks/cluster.go",
            "name roleArn kubernetesNetworkConfig.ipFamily kubernetesNetworkConfig.serviceIpv4Cidr",
        ),
        ForceNew(
            "encryptionConfig",
            f"{_TF} eks/cluster.go CustomizeDiff",
            lambda old, new: _removed(old, new, "encryptionConfig"),
            "only when envelope encryption is removed",
        ),
        ForceNew("bootstrapSelfManagedAddons", "pulumi-aws v7 eks.Cluster docs"),
    ),
}
"""Replacement-forcing inputs of the stateful types, each with where it was confirmed."""


@dataclass(frozen=True)
class Change:
    """One property that differs: `old` or `new` is MISSING when it was added or removed."""

    path: str
    old: Any
    new: Any
    replaces: str = ""
    """Non-empty when this change makes AWS replace the resource: the reason."""


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass
class ResourceDiff:
    op: str
    """"+" added, "-" removed, "~" changed."""
    urn: str
    type: str
    name: str
    changes: list[Change] = field(default_factory=list)

    @property
    def stateful(self) -> str:
        return STATEFUL.get(self.type, "")

    @property
    def replaced(self) -> bool:
        return any(c.replaces for c in self.changes)


@dataclass
class PlanDiff:
    stack: str
    resources: list[ResourceDiff]
    outputs: list[Change]

    @property
    def empty(self) -> bool:
        return not self.resources and not self.outputs

    def warnings(self) -> list[str]:
        """The lines a reviewer must not miss: stateful resources touched, replacements."""
        found = []
        for r in self.resources:
            if r.replaced:
                paths = ", ".join(c.path for c in r.changes if c.replaces)
                found.append(f"REPLACE {r.stateful or 'resource'} {r.name}: {paths}")
            elif r.stateful and r.op == "-":
                found.append(f"DELETE {r.stateful} {r.name}")
            elif r.stateful and r.op == "~":
                found.append(f"UPDATE {r.stateful} {r.name}")
            for c in r.changes:
                if r.stateful and c.path == "[protect]" and c.old is True and c.new is not True:
                    found.append(f"UNPROTECT {r.stateful} {r.name}")
        return found


def _decode(value: Any) -> Any:
    # Policies arrive as JSON text; diffing them structurally names the statement that moved.
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _walk(path: str, old: Any, new: Any) -> Iterator[Change]:
    old, new = _decode(old), _decode(new)
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            yield from _walk(sub, old.get(key, MISSING), new.get(key, MISSING))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _walk(f"{path}[{i}]", a, b)
    elif old != new:
        yield Change(path, old, new)


def _replaces(
    typ: str,
    path: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    replace_on_changes: list[str],
) -> str:
    for rule in REPLACES.get(typ, ()):
        if (path == rule.path or path.startswith((f"{rule.path}.", f"{rule.path}["))) and (
            rule.when(old, new)
        ):
            note = f", {rule.note}" if rule.note else ""
            return f"forces replacement: {rule.source}{note}"
    for prop in replace_on_changes:
        if prop == "*" or path == prop or path.startswith((f"{prop}.", f"{prop}[")):
            return "forces replacement: replaceOnChanges option"
    return ""


def _resource_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_in, new_in = old.get("inputs") or {}, new.get("inputs") or {}
    replace_on = list((new.get("options") or {}).get("replaceOnChanges") or [])
    for c in _walk("", old_in, new_in):
        reason = _replaces(new["type"], c.path, old_in, new_in, replace_on)
        changes.append(Change(c.path, c.old, c.new, reason))
    for key in ("protect", "provider", "parent"):
        if old.get(key) != new.get(key):
            changes.append(Change(f"[{key}]", old.get(key), new.get(key)))
    changes += [
        Change(f"[options].{c.path}", c.old, c.new)
        for c in _walk("", old.get("options") or {}, new.get("options") or {})
    ]
    gone = sorted(set(old.get("dependencies") or []) - set(new.get("dependencies") or []))
    came = sorted(set(new.get("dependencies") or []) - set(old.get("dependencies") or []))
    changes += [Change("[dependsOn]", urn, MISSING) for urn in gone]
    changes += [Change("[dependsOn]", MISSING, urn) for urn in came]
    return changes


def diff(base: Mapping[str, Any], head: Mapping[str, Any]) -> PlanDiff:
    """Everything that differs between two snapshots, in URN order."""
    before = {r["urn"]: r for r in base.get("resources", [])}
    after = {r["urn"]: r for r in head.get("resources", [])}
    resources = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        if old is None or new is None:
            r = new if old is None else old
            assert r is not None
            resources.append(ResourceDiff("+" if old is None else "-", urn, r["type"], r["name"]))
            continue
        changes = _resource_changes(old, new)
        if changes:
            resources.append(ResourceDiff("~", urn, new["type"], new["name"], changes))
    outputs = list(_walk("", base.get("outputs") or {}, head.get("outputs") or {}))
    return PlanDiff(str(head.get("stack") or base.get("stack") or ""), resources, outputs)


def _show(value: Any) -> str:
    return repr(value) if value is MISSING else json.dumps(value, sort_keys=True)


def _change_line(c: Change) -> str:
    if c.old is MISSING:
        line = f"    + {c.path}: {_show(c.new)}"
    elif c.new is MISSING:
        line = f"    - {c.path}: {_show(c.old)}"
    else:
        line = f"    ~ {c.path}: {_show(c.old)} -> {_show(c.new)}"
    return f"{line}   [{c.replaces}]" if c.replaces else line


def _body(plan: PlanDiff) -> list[str]:
    lines = []
    for r in plan.resources:
        flags = [f"stateful: {r.stateful}"] if r.stateful else []
        flags += ["REPLACE"] if r.replaced else []
        shown = f"  ({', '.join(flags)})" if flags else ""
        lines.append(f"{r.op} {r.type}  {r.name}{shown}")
        lines += [_change_line(c) for c in r.changes]
    if plan.outputs:
        lines.append("~ Outputs")
        lines += [_change_line(c) for c in plan.outputs]
    return lines


def summary(plan: PlanDiff) -> str:
    ops = [r.op for r in plan.resources]
    return (
        f"{ops.count('+')} to add, {ops.count('~')} to change, {ops.count('-')} to remove, "
        f"{sum(r.replaced for r in plan.resources)} to replace, "
        f"{len(plan.outputs)} output changes"
    )


def to_text(plan: PlanDiff) -> str:
    if plan.empty:
        return f"Stack {plan.stack}: no changes."
    lines = [f"Stack {plan.stack}: {summary(plan)}"]
    lines += [f"!! {w}" for w in plan.warnings()]
    return "\n".join([*lines, "", *_body(plan)])


def to_markdown(plan: PlanDiff) -> str:
    title = f"### Plan diff: `{plan.stack}`"
    if plan.empty:
        return f"{title}\n\nNo changes."
    lines = [title, "", summary(plan) + ".", ""]
    lines += [f"- :warning: **{w}**" for w in plan.warnings()]
    return "\n".join([*lines, "", "```diff", *_body(plan), "```"])


def load_snapshot(path: Path) -> dict[str, Any]:
    """A snapshot written by `preview --json`, or ValueError naming the file and the flaw."""
    try:
        snapshot = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON: {err}") from None
    if not isinstance(snapshot, dict) or not {"stack", "resources"} <= snapshot.keys():
        raise ValueError(f"{path}: not a `preview --json` snapshot (no stack and resources)")
    return snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reevo_infra.plandiff",
        description="Compare two `python -m reevo_infra.preview STACK --json FILE` snapshots: "
        "resources added (+), removed (-) and changed (~) property by property, "
        "stateful resources and replacement-forcing changes flagged.",
        epilog="Exit status, as diff(1): 0 no changes, 1 changes found, 2 unreadable input.",
    )
    parser.add_argument("base", type=Path, help="snapshot of the base (e.g. main)")
    parser.add_argument("head", type=Path, help="snapshot of the change (e.g. the pull request)")
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text for a terminal (default), markdown for a PR comment",
    )
    args = parser.parse_args(argv)
    try:
        base, head = (load_snapshot(p) for p in (args.base, args.head))
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if base["stack"] != head["stack"]:
        print(
            f"error: {args.base} is stack {base['stack']!r} but {args.head} is "
            f"{head['stack']!r}; compare one stack with itself",
            file=sys.stderr,
        )
        return 2
    plan = diff(base, head)
    print(to_markdown(plan) if args.format == "markdown" else to_text(plan))
    return 0 if plan.empty else 1


if __name__ == "__main__":
    sys.exit(main())
