"""Lookups several test modules share, over a stack's recording."""

from __future__ import annotations

from reevo_infra.offline import Recording, Registration


def key(rec: Recording, purpose: str) -> Registration:
    """The stack's KMS key for `purpose` (data, logs, cluster or alerts), by its Purpose tag."""
    [found] = [k for k in rec.of_type("aws:kms/key:Key") if k.input("tags.Purpose") == purpose]
    return found


def named(rec: Recording, typ: str, physical: str) -> Registration:
    """The registered resource of `typ` whose physical name is `physical`."""
    [found] = [r for r in rec.of_type(typ) if r.state.get("name") == physical]
    return found
