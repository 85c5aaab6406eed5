"""CloudEvents 1.0 in Kafka binary mode: attributes in `ce_*` headers, data as the value.

See the Kafka protocol binding of CloudEvents 1.0: each attribute is a header named
`ce_<attribute>`, `content-type` carries the data's media type, the key is the
aggregate id (our `ce_subject`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from edvent_events.contract import Event, event_type

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]


class DecodeError(ValueError):
    """A message that is not a well-formed Edvent CloudEvent."""


class UnknownEventTypeError(DecodeError):
    """A well-formed CloudEvent whose type this code does not know."""

    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown ce_type {ce_type!r}")
        self.ce_type = ce_type


# Covariant: an `Envelope[LessonPublished]` is an `Envelope[Event]`.
E_co = TypeVar("E_co", bound=Event, covariant=True)


@dataclass(frozen=True)
class KafkaMessage:
    topic: str
    key: bytes
    value: bytes
    headers: Headers


@dataclass(frozen=True)
class Envelope(Generic[E_co]):
    """A decoded event: CloudEvents attributes and the typed `data`."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    data: E_co
    traceparent: str | None = None
    extra_headers: dict[str, bytes] = field(default_factory=dict)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode_data(event: Event) -> bytes:
    return event.model_dump_json().encode()


def build_headers(
    *,
    event_id: str,
    source: str,
    ce_type: str,
    time: str,
    subject: str,
    traceparent: str | None,
) -> Headers:
    """The CloudEvents headers; `time` is already RFC 3339 text (see `rfc3339`)."""
    headers: Headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", time.encode()),
        ("ce_subject", subject.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers


def encode(
    event: Event,
    *,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> KafkaMessage:
    subject = event.subject
    return KafkaMessage(
        topic=event.topic,
        key=subject.encode(),
        value=encode_data(event),
        headers=build_headers(
            event_id=event_id or str(uuid.uuid4()),
            source=event.source,
            ce_type=event.ce_type,
            time=rfc3339(time or datetime.now(UTC)),
            subject=subject,
            traceparent=traceparent,
        ),
    )


def header_map(headers: Any) -> dict[str, bytes]:
    result: dict[str, bytes] = {}
    for name, value in headers or ():
        result[name.lower() if name.lower() == "content-type" else name] = value or b""
    return result


def decode(headers: Any, value: bytes | None) -> Envelope[Event]:
    """Parse and validate a consumed message; raises DecodeError with the reason."""
    hmap = header_map(headers)

    def attr(name: str) -> str:
        raw = hmap.get(f"ce_{name}")
        if raw is None:
            raise DecodeError(f"missing header ce_{name}")
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise DecodeError(f"header ce_{name} is not UTF-8") from exc

    if attr("specversion") != SPEC_VERSION:
        raise DecodeError(f"unsupported ce_specversion {attr('specversion')!r}")
    ce_type = attr("type")
    content_type = hmap.get("content-type", CONTENT_TYPE.encode()).decode(errors="replace")
    if content_type.split(";")[0].strip() != CONTENT_TYPE:
        raise DecodeError(f"unsupported content-type {content_type!r}")
    try:
        moment = datetime.fromisoformat(attr("time").replace("Z", "+00:00"))
    except ValueError as exc:
        raise DecodeError("ce_time is not an RFC 3339 time") from exc
    cls = event_type(ce_type)
    if cls is None:
        raise UnknownEventTypeError(ce_type)
    if value is None:
        raise DecodeError("message has no value")
    try:
        data = cls.decode_data(value)
    except ValueError as exc:  # pydantic's ValidationError, for bad JSON too
        raise DecodeError(f"data does not match {ce_type}: {exc}") from exc
    traceparent = hmap.get("traceparent")
    known = {f"ce_{n}" for n in ("specversion", "id", "source", "type", "time", "subject")}
    return Envelope(
        id=attr("id"),
        source=attr("source"),
        type=ce_type,
        time=moment,
        subject=attr("subject"),
        data=data,
        traceparent=traceparent.decode(errors="replace") if traceparent else None,
        extra_headers={k: v for k, v in hmap.items() if k not in known},
    )
