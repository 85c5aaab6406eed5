"""Opaque list cursors: a page's last sort key, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from uuid import UUID

from edvent_identity.db.users import PageKey


def encode_cursor(key: PageKey) -> str:
    raw = json.dumps({"t": key.created_at.isoformat(), "id": str(key.id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> PageKey:
    """The key a cursor encodes; ValueError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        when, key_id = data["t"], data["id"]
        # Checked, not assumed: UUID(123) raises AttributeError, which would be a 500.
        if not isinstance(when, str) or not isinstance(key_id, str):
            raise TypeError("cursor fields are strings")
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("cursor times have a zone")
        # In UTC here, as the database compares them: year 1 or 9999 with a far-off
        # offset overflows when converted, and must do so here, not in the query.
        return PageKey(created_at=created_at.astimezone(UTC), id=UUID(key_id))
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValueError("not a cursor from this API") from exc
