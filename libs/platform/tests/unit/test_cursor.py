"""List cursors: exact round trips, and anything not made here refused as ValueError."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edvent_platform.cursor import PAGE_KEY_PATTERN, PageKey, decode_page_key, encode_page_key


def test_a_cursor_round_trips_exactly() -> None:
    key = PageKey(created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), id=uuid.uuid4())
    assert decode_page_key(encode_page_key(key)) == key


def test_a_cursor_says_its_time_and_id_plainly() -> None:
    key = PageKey(created_at=datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC), id=uuid.UUID(int=255))
    assert encode_page_key(key) == "1000005." + "0" * 30 + "ff"


@given(st.from_regex(PAGE_KEY_PATTERN, fullmatch=True))
def test_every_cursor_the_documented_pattern_allows_is_accepted(cursor: str) -> None:
    # The OpenAPI document gives this pattern: a client generating cursors from it
    # must never meet a 422.
    assert encode_page_key(decode_page_key(cursor)).lstrip("0") == cursor.lstrip("0")


def _encoded(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "nope",
        "e30",
        "eyJ0IjoiMjAyNi0wMS0wMiIsImlkIjoieCJ9",
        _encoded({"t": "2026-01-02T00:00:00+00:00", "id": 1}),
        _encoded({"t": 1, "id": str(uuid.UUID(int=1))}),
        _encoded({"t": "0001-01-01T00:00:00+14:00", "id": str(uuid.UUID(int=1))}),
        _encoded({"t": "9999-12-31T23:59:59-14:00", "id": str(uuid.UUID(int=1))}),
        _encoded(["t", "id"]),
        "12." + "0" * 31,
        "12." + "F" * 32,
        "-12." + "0" * 32,
        "1" * 17 + "." + "0" * 32,
    ],
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        decode_page_key(cursor)
