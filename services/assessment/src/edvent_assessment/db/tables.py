"""The assessment service's tables, in the `assessment` schema."""

from __future__ import annotations

from edvent_platform.db import service_metadata

metadata = service_metadata("assessment")
