"""The W3C trace context an event should carry, taken from whatever is being handled.

HTTP middleware sets it from the request's `traceparent` header and the consumer
runner from the event it handles, so an event written by that work continues the
same trace without every call site passing it along.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

current_traceparent: ContextVar[str | None] = ContextVar("current_traceparent", default=None)

_TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


def valid_traceparent(value: str | None) -> str | None:
    """The header if it is a well-formed version-00 traceparent, else None."""
    if value and _TRACEPARENT.match(value.strip()):
        return value.strip()
    return None
