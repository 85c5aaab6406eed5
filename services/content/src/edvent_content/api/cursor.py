"""The lessons' cursor: their place in the course, as decimal digits. Courses page by
`edvent_platform.cursor.PageKey` like every list sorted by creation."""

from __future__ import annotations

import re

# Every match is accepted (the OpenAPI document gives this pattern): a place past the
# largest order_index simply has no lessons after it.
LESSON_CURSOR_PATTERN = r"^[0-9]{1,10}$"
_LESSON_CURSOR = re.compile(LESSON_CURSOR_PATTERN)
_LAST_PLACE = 2**31 - 1  # order_index is a 32-bit integer


def encode_lesson_cursor(order_index: int) -> str:
    return str(order_index)


def decode_lesson_cursor(cursor: str) -> int:
    if not _LESSON_CURSOR.fullmatch(cursor):
        raise ValueError("not a cursor from this API")
    return min(int(cursor), _LAST_PLACE)
