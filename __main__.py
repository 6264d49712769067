"""Reevo's cloud foundation: load and check the stack config, build every tier, export."""

import pulumi

from reevo_infra import config
from reevo_infra.stack import build

for key, value in build(config.load()).items():
    pulumi.export(key, value)
