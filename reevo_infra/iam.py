"""IAM policy documents shared by the components (pure)."""

from __future__ import annotations

import json


def service_trust(service: str, *, tag_session: bool = False) -> str:
    """A role trust policy that lets one AWS service (e.g. `eks.amazonaws.com`) assume it."""
    # EKS asks for TagSession as well, to tag the sessions it opens with the role.
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)
