"""What an event is: a typed data object bound to a topic, a CloudEvents type and a key.

Each event type is a Pydantic model. The class carries its wire identity
(`topic`, `ce_type`, `source`, which field is the aggregate id); instances are the
`data` part only, so the JSON on the wire is exactly what data teams read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    # Producers may not invent fields; consumers ignore fields added by a newer minor
    # version (see `decode_data`), so adding optional fields never breaks a reader.
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: ClassVar[str]
    ce_type: ClassVar[str]
    source: ClassVar[str]
    key_field: ClassVar[str]

    @property
    def subject(self) -> str:
        """The aggregate id: Kafka key and `ce_subject`, so one aggregate stays in order."""
        return str(getattr(self, self.key_field))

    @classmethod
    def major_version(cls) -> int:
        return int(cls.ce_type.rsplit(".v", 1)[1])

    @classmethod
    def decode_data(cls, raw: bytes | str | dict[str, Any]) -> Event:
        if isinstance(raw, dict):
            return cls.model_validate(raw, extra="ignore")
        return cls.model_validate_json(raw, extra="ignore")


REGISTRY: dict[str, type[Event]] = {}


def register(cls: type[Event]) -> type[Event]:
    """Class decorator: make an event type known to encoders, consumers and exporters."""
    for attr in ("topic", "ce_type", "source", "key_field"):
        if not isinstance(getattr(cls, attr, None), str):
            raise TypeError(f"{cls.__name__} must set the class variable {attr!r}")
    if cls.key_field not in cls.model_fields:
        raise TypeError(f"{cls.__name__}.key_field names no field: {cls.key_field!r}")
    if cls.ce_type in REGISTRY and REGISTRY[cls.ce_type] is not cls:
        raise TypeError(f"ce_type {cls.ce_type!r} is registered twice")
    REGISTRY[cls.ce_type] = cls
    return cls


def event_type(ce_type: str) -> type[Event] | None:
    from edvent_events import catalog  # noqa: F401 - importing registers every event type

    return REGISTRY.get(ce_type)
