"""What an event is: a typed data object bound to a topic, a CloudEvents type and a key.

Each event type is a Pydantic model. The class carries its wire identity
(`topic`, `ce_type`, `source`, which field is the aggregate id); instances are the
`data` part only, so the JSON on the wire is exactly what data teams read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# Validation context of `Event.decode_data`: what a reader accepts, as opposed to what a
# producer may build.
READING = "edvent_reading"


class KnownValues:
    """Annotation of an enum-like text field: `Annotated[str, KnownValues("A", "B")]`.

    A producer can only build one of the known values. A reader decoding the wire
    (`Event.decode_data`) also takes values added by a newer producer within the same
    major version (a new role, a new status), so readers that do not care about the
    field keep working; readers that do compare with the known values themselves.
    The JSON Schema lists the known values as an `enum`, which the compatibility
    policy lets grow within a major version (see `compat.py`).
    """

    def __init__(self, *values: str) -> None:
        self.values = values

    def __get_pydantic_core_schema__(
        self, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        known = frozenset(self.values)
        listed = ", ".join(self.values)

        def check(value: str, info: ValidationInfo) -> str:
            if value in known or (isinstance(info.context, dict) and info.context.get(READING)):
                return value
            raise PydanticCustomError(
                "unknown_value", "Input should be one of {values}", {"values": listed}
            )

        return core_schema.with_info_after_validator_function(check, handler(source_type))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"enum": list(self.values), "type": "string"}


class Event(BaseModel):
    # Producers may not invent fields; consumers ignore fields added by a newer minor
    # version and take enum values it added (see `decode_data`), so adding optional
    # fields or enum values never breaks a reader.
    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: ClassVar[str]
    ce_type: ClassVar[str]
    source: ClassVar[str]
    key_field: ClassVar[str]
    # A tombstone goes out with a null value (the key and headers only): on a compacted
    # topic it deletes the key's earlier records. Its fields only make the key.
    tombstone: ClassVar[bool] = False

    @property
    def subject(self) -> str:
        """The aggregate id: Kafka key and `ce_subject`, so one aggregate stays in order."""
        return str(getattr(self, self.key_field))

    @classmethod
    def major_version(cls) -> int:
        return int(cls.ce_type.rsplit(".v", 1)[1])

    @classmethod
    def decode_data(cls, raw: bytes | str | dict[str, Any]) -> Event:
        """Read `data` as a tolerant reader: unknown fields are ignored, and enum-like
        fields (`KnownValues`) take values a newer producer added."""
        context = {READING: True}
        if isinstance(raw, dict):
            return cls.model_validate(raw, extra="ignore", context=context)
        return cls.model_validate_json(raw, extra="ignore", context=context)


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
