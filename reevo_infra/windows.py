"""Maintenance, backup and snapshot windows as RDS and ElastiCache write them (UTC; pure)."""

from __future__ import annotations

import re

DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
"""hh:mm-hh:mm: backup and snapshot windows."""
WEEKLY = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)"
    r"-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
"""ddd:hh:mm-ddd:hh:mm: maintenance windows."""


def overlap(daily: str, weekly: str) -> bool:
    """True when a daily hh:mm-hh:mm window overlaps a weekly ddd:hh:mm-ddd:hh:mm one."""

    def minutes(hh: str, mm: str) -> int:
        return int(hh) * 60 + int(mm)

    d = DAILY.match(daily)
    w = WEEKLY.match(weekly)
    if not d or not w:
        return False
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    week = 7 * 24 * 60
    w_start = days.index(w[1]) * 1440 + minutes(w[2], w[3])
    w_end = days.index(w[4]) * 1440 + minutes(w[5], w[6])
    w_len = (w_end - w_start) % week
    d_start = minutes(d[1], d[2])
    d_len = (minutes(d[3], d[4]) - d_start) % 1440
    for day in range(7):
        start = day * 1440 + d_start
        for offset in (-week, 0, week):
            a0, a1 = start + offset, start + offset + d_len
            if a0 < w_start + w_len and w_start < a1:
                return True
    return False


def length_minutes(window: str) -> int:
    """Length in minutes of a daily hh:mm-hh:mm or weekly ddd:hh:mm-ddd:hh:mm window."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    if d := DAILY.match(window):
        return (int(d[3]) * 60 + int(d[4]) - int(d[1]) * 60 - int(d[2])) % 1440
    if w := WEEKLY.match(window):
        start = days.index(w[1]) * 1440 + int(w[2]) * 60 + int(w[3])
        end = days.index(w[4]) * 1440 + int(w[5]) * 60 + int(w[6])
        return (end - start) % (7 * 1440)
    return 0
