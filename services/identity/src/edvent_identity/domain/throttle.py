"""Login throttling: at most N failed logins per key within a sliding window."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    max_failures: int
    window: timedelta


def retry_after(
    rule: ThrottleRule, *, nth_latest_failure: datetime | None, now: datetime
) -> int | None:
    """Seconds until another attempt is allowed, or None if one is allowed now.

    `nth_latest_failure` is the `max_failures`-th most recent failure inside the
    window (None if there are fewer): once it leaves the window, fewer than
    `max_failures` remain and the key may try again.
    """
    if nth_latest_failure is None:
        return None
    remaining = (nth_latest_failure + rule.window - now).total_seconds()
    if remaining <= 0:
        return None
    return max(1, math.ceil(remaining))
