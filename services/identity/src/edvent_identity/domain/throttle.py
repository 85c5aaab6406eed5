"""Login throttling: at most N failed logins per key within a sliding window, and a
growing but bounded delay once an account has many failures from everywhere."""

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


@dataclass(frozen=True, slots=True)
class SlowdownRule:
    """Past `after` failures for one account within `window` (from any address), each
    attempt waits for the latest failure plus a delay that doubles with every further
    failure, up to `max_delay`: guessing from many addresses slows to one guess per
    `max_delay`, and nobody, the owner included, waits longer than that."""

    after: int
    max_delay: timedelta
    window: timedelta


def slowdown_wait(
    rule: SlowdownRule, *, failures: int, latest_failure: datetime | None, now: datetime
) -> int | None:
    """Seconds until the account takes another attempt, or None if it takes one now."""
    if latest_failure is None or failures < rule.after:
        return None
    # 2 s at the threshold, doubling; the exponent is capped before it can grow large.
    delay = min(rule.max_delay.total_seconds(), 2.0 ** min(failures - rule.after + 1, 32))
    remaining = (latest_failure + timedelta(seconds=delay) - now).total_seconds()
    if remaining <= 0:
        return None
    return max(1, math.ceil(remaining))
