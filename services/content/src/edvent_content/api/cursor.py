"""The lessons' cursor: their place in the course. Courses page by
`edvent_platform.cursor.PageKey` like every list sorted by creation."""

from __future__ import annotations

from edvent_platform.cursor import decode_cursor, encode_cursor


def encode_lesson_cursor(order_index: int) -> str:
    return encode_cursor({"o": order_index})


def decode_lesson_cursor(cursor: str) -> int:
    try:
        value = decode_cursor(cursor)["o"]
        # bool is an int in Python; the column is a 32-bit integer.
        if type(value) is not int or not 0 <= value < 2**31:
            raise TypeError("order_index is a non-negative integer")
        return value
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError("not a cursor from this API") from exc
