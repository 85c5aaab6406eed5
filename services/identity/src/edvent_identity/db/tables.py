"""Identity's tables, in the `identity` schema."""

from __future__ import annotations

from edvent_platform.db import service_metadata

metadata = service_metadata("identity")
