"""Data-export parts: sealed to identity's key, opened only with it, for that export and
service, whole."""

from __future__ import annotations

import os
from uuid import uuid4

import pytest

from edvent_events import exports, samples
from edvent_events.catalog import CATALOG
from edvent_events.exports import UnopenablePartError, UserDataPart


def test_a_part_opens_with_the_private_key_for_its_export_and_service() -> None:
    private_key, public_key = exports.new_keypair()
    export_id = uuid4()
    data = {"attempts": [{"score": 80, "answer": ["a"]}], "grades": []}
    chunks = exports.seal_part(
        data, public_key=public_key, export_id=export_id, service="assessment"
    )
    assert chunks and "attempts" not in "".join(chunks)
    opened = exports.open_part(
        chunks, private_key=private_key, export_id=export_id, service="assessment"
    )
    assert opened == data


def test_a_large_part_comes_in_chunks_that_each_fit_a_kafka_message() -> None:
    private_key, public_key = exports.new_keypair()
    export_id = uuid4()
    # Random hex hardly compresses: about 1.1 MB of sealed text.
    data = {"blob": os.urandom(400_000).hex()}
    chunks = exports.seal_part(data, public_key=public_key, export_id=export_id, service="content")
    assert len(chunks) >= 2
    assert all(len(chunk) <= exports.CHUNK_CHARS for chunk in chunks)
    assert (
        exports.open_part(chunks, private_key=private_key, export_id=export_id, service="content")
        == data
    )
    with pytest.raises(UnopenablePartError):
        exports.open_part(
            chunks[:-1], private_key=private_key, export_id=export_id, service="content"
        )


@pytest.mark.parametrize("change", ["export", "service", "key", "tamper"])
def test_a_part_does_not_open_elsewhere_or_altered(change: str) -> None:
    private_key, public_key = exports.new_keypair()
    export_id = uuid4()
    chunks = exports.seal_part(
        {"courses": []}, public_key=public_key, export_id=export_id, service="content"
    )
    service = "content"
    if change == "export":
        export_id = uuid4()
    elif change == "service":
        service = "assessment"  # a part copied onto another service's answer
    elif change == "key":
        private_key, _ = exports.new_keypair()
    else:
        text = chunks[0]
        middle = len(text) // 2
        chunks = [text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]]
    with pytest.raises(UnopenablePartError):
        exports.open_part(chunks, private_key=private_key, export_id=export_id, service=service)


def test_garbage_is_refused_as_unopenable_not_as_a_crash() -> None:
    private_key, _ = exports.new_keypair()
    for text in ["", "!!!", "AAAA", "A" * 100]:
        with pytest.raises(UnopenablePartError):
            exports.open_part([text], private_key=private_key, export_id=uuid4(), service="content")
    with pytest.raises(UnopenablePartError):
        exports.seal_part({}, public_key="short", export_id=uuid4(), service="content")


def test_the_documented_samples_are_real_parts_sealed_to_the_sample_key() -> None:
    parts = [cls for cls in CATALOG if issubclass(cls, UserDataPart)]
    assert {cls.service() for cls in parts} == {"content", "assessment", "ai-notes"}
    for cls in parts:
        event = samples.sample(cls)
        assert isinstance(event, UserDataPart)
        opened = exports.open_part(
            [event.sealed],
            private_key=samples.EXPORT_PRIVATE_KEY,
            export_id=event.export_id,
            service=cls.service(),
        )
        assert isinstance(opened, dict)
    request = samples.sample(CATALOG[[c.__name__ for c in CATALOG].index("UserExportRequested")])
    assert request.public_key == samples.EXPORT_PUBLIC_KEY
