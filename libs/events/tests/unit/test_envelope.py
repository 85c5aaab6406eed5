"""CloudEvents binary-mode encoding: round trips, rejections, and what other SDKs see."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1 import kafka as ce_v1_kafka

from edvent_events.catalog import CATALOG, LessonPublished
from edvent_events.contract import Event
from edvent_events.envelope import (
    DecodeError,
    KafkaMessage,
    UnknownEventTypeError,
    decode,
    encode,
)
from edvent_events.samples import TRACEPARENT, all_samples, attempt_completed, lesson_published

EVENT_ID = "9f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5"
MOMENT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
SAMPLES = all_samples()


def ids(event: Event) -> str:
    return event.ce_type


def replace_header(message: KafkaMessage, name: str, value: bytes | None) -> list[Any]:
    """The message's headers with `name` set to `value` (None removes it)."""
    headers = [(k, v) for k, v in message.headers if k != name]
    return headers if value is None else [*headers, (name, value)]


def test_every_catalog_type_has_a_sample() -> None:
    assert [type(event) for event in SAMPLES] == list(CATALOG)


@pytest.mark.parametrize("event", SAMPLES, ids=ids)
def test_round_trip(event: Event) -> None:
    message = encode(event, event_id=EVENT_ID, time=MOMENT)
    envelope = decode(message.headers, message.value)

    assert envelope.data == event
    assert type(envelope.data) is type(event)
    assert envelope.id == EVENT_ID
    assert envelope.type == event.ce_type
    assert envelope.source == event.source
    assert envelope.time == MOMENT
    assert envelope.traceparent is None
    assert message.topic == event.topic


@pytest.mark.parametrize("event", SAMPLES, ids=ids)
def test_key_equals_subject_equals_aggregate_id(event: Event) -> None:
    message = encode(event)
    headers = dict(message.headers)
    aggregate_id = str(getattr(event, event.key_field))
    assert message.key.decode() == headers["ce_subject"].decode() == aggregate_id
    assert decode(message.headers, message.value).subject == aggregate_id


def test_headers_are_cloudevents_binary_mode() -> None:
    message = encode(lesson_published(), event_id=EVENT_ID, time=MOMENT)
    headers = dict(message.headers)
    assert len(headers) == len(message.headers), "no header may appear twice"
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": EVENT_ID.encode(),
        "ce_source": b"/services/content",
        "ce_type": b"edvent.content.lesson.published.v1",
        "ce_time": b"2026-03-04T05:06:07.891011Z",
        "ce_subject": str(lesson_published().lesson_id).encode(),
        "content-type": b"application/json",
    }
    assert json.loads(message.value) == lesson_published().model_dump(mode="json")


def test_traceparent_travels_when_given() -> None:
    message = encode(attempt_completed(), traceparent=TRACEPARENT)
    assert (b"traceparent", TRACEPARENT.encode()) in [(k.encode(), v) for k, v in message.headers]
    assert decode(message.headers, message.value).traceparent == TRACEPARENT


def test_each_encoding_gets_a_fresh_event_id() -> None:
    first, second = encode(lesson_published()), encode(lesson_published())
    assert dict(first.headers)["ce_id"] != dict(second.headers)["ce_id"]


@pytest.mark.parametrize(
    "header", ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"]
)
def test_decode_rejects_a_missing_ce_header(header: str) -> None:
    message = encode(lesson_published())
    with pytest.raises(DecodeError, match=header):
        decode(replace_header(message, header, None), message.value)


def test_decode_rejects_another_specversion() -> None:
    message = encode(lesson_published())
    with pytest.raises(DecodeError, match="specversion"):
        decode(replace_header(message, "ce_specversion", b"0.3"), message.value)


def test_decode_rejects_an_unknown_type() -> None:
    message = encode(lesson_published())
    headers = replace_header(message, "ce_type", b"edvent.content.lesson.archived.v1")
    with pytest.raises(UnknownEventTypeError, match=r"lesson\.archived"):
        decode(headers, message.value)
    assert issubclass(UnknownEventTypeError, DecodeError)


def test_decode_rejects_a_bad_time() -> None:
    message = encode(lesson_published())
    with pytest.raises(DecodeError, match="ce_time"):
        decode(replace_header(message, "ce_time", b"yesterday"), message.value)


def test_decode_rejects_another_content_type() -> None:
    message = encode(lesson_published())
    with pytest.raises(DecodeError, match="content-type"):
        decode(replace_header(message, "content-type", b"application/avro"), message.value)


@pytest.mark.parametrize("value", [b"{not json", b"", None], ids=["broken", "empty", "tombstone"])
def test_decode_rejects_a_value_that_is_not_json(value: bytes | None) -> None:
    message = encode(lesson_published())
    with pytest.raises(DecodeError):
        decode(message.headers, value)


@pytest.mark.parametrize(
    "edit",
    [
        {"content_sha256": "not-a-digest"},
        {"order_index": -1},
        {"lesson_id": "not-a-uuid"},
        {"published_at": "2026-01-12T09:00:00"},  # no zone
        {"title": None},
    ],
    ids=["pattern", "bound", "uuid", "naive-time", "null"],
)
def test_decode_rejects_data_that_does_not_match_the_schema(edit: dict[str, Any]) -> None:
    message = encode(lesson_published())
    data = {**json.loads(message.value), **edit}
    with pytest.raises(DecodeError, match=re.escape(LessonPublished.ce_type)):
        decode(message.headers, json.dumps(data).encode())


def test_decode_rejects_data_missing_a_required_field() -> None:
    message = encode(attempt_completed())
    data = json.loads(message.value)
    del data["score"]
    with pytest.raises(DecodeError, match="score"):
        decode(message.headers, json.dumps(data).encode())


def test_decode_ignores_fields_added_by_a_newer_producer() -> None:
    event = lesson_published()
    message = encode(event)
    data = json.loads(message.value) | {"reading_minutes": 7}
    assert decode(message.headers, json.dumps(data).encode()).data == event


def test_decode_ignores_fields_added_inside_nested_objects() -> None:
    from edvent_events.samples import notes_generated

    event = notes_generated()
    message = encode(event)
    data = json.loads(message.value)
    data["key_concepts"][0]["aliases"] = ["bisection"]
    assert decode(message.headers, json.dumps(data).encode()).data == event


def test_producers_cannot_invent_fields() -> None:
    with pytest.raises(ValueError, match="reading_minutes"):
        lesson_published(reading_minutes=7)


# --- what the CloudEvents SDK sees ---------------------------------------------------


@pytest.mark.parametrize("event", SAMPLES, ids=ids)
def test_cloudevents_sdk_reads_our_messages(event: Event) -> None:
    message = encode(event, event_id=EVENT_ID, time=MOMENT, traceparent=TRACEPARENT)
    parsed = ce_kafka.from_binary(
        ce_kafka.KafkaMessage(headers=dict(message.headers), key=message.key, value=message.value),
        JSONFormat(),
    )
    assert parsed.get_specversion() == "1.0"
    assert parsed.get_id() == EVENT_ID
    assert parsed.get_type() == event.ce_type
    assert parsed.get_source() == event.source
    assert parsed.get_subject() == event.subject
    assert parsed.get_time() == MOMENT
    assert parsed.get_datacontenttype() == "application/json"
    assert parsed.get_data() == event.model_dump(mode="json")
    assert parsed.get_extension("partitionkey") == event.subject


@pytest.mark.parametrize("event", SAMPLES, ids=ids)
def test_cloudevents_v1_compat_api_reads_our_messages(event: Event) -> None:
    message = encode(event, event_id=EVENT_ID, time=MOMENT)
    parsed = ce_v1_kafka.from_binary(
        ce_v1_kafka.KafkaMessage(dict(message.headers), message.key, message.value)
    )
    assert parsed["specversion"] == "1.0"
    assert parsed["id"] == EVENT_ID
    assert parsed["type"] == event.ce_type
    assert parsed["source"] == event.source
    assert parsed["subject"] == event.subject
    assert datetime.fromisoformat(parsed["time"].replace("Z", "+00:00")) == MOMENT
    assert parsed.get_data() == event.model_dump(mode="json")


def test_we_decode_what_the_cloudevents_sdk_writes() -> None:
    from cloudevents.core.v1.event import CloudEvent

    event = lesson_published()
    cloud_event = CloudEvent(
        attributes={
            "id": EVENT_ID,
            "source": event.source,
            "type": event.ce_type,
            "subject": event.subject,
            "time": MOMENT,
            "datacontenttype": "application/json",
            "partitionkey": event.subject,
        },
        data=event.model_dump(mode="json"),
    )
    written = ce_kafka.to_binary(cloud_event, JSONFormat())
    envelope = decode(list(written.headers.items()), written.value)
    assert envelope.data == event
    assert envelope.id == EVENT_ID
    assert envelope.time == MOMENT
    assert written.key == event.subject
