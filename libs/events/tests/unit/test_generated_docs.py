"""The committed schemas and AsyncAPI document are what the models produce now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edvent_events import docs
from edvent_events.catalog import CATALOG, ai_notes, assessment, content
from edvent_events.contract import REGISTRY, event_type
from edvent_events.topics import ALL_TOPICS

REGENERATE = "run `uv run python -m edvent_events.docs` and commit the result"


def test_committed_documents_match_the_models() -> None:
    stale = docs.differing(docs.ROOT, docs.render())
    assert not stale, f"generated event documents are out of date: {stale}; {REGENERATE}"


def test_check_flag_lists_differing_files_and_passes_after_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docs.main(["--check", "--root", str(tmp_path)]) == 1
    reported = capsys.readouterr().err
    for name in docs.render():
        assert name in reported

    assert docs.main(["--root", str(tmp_path)]) == 0
    assert docs.main(["--check", "--root", str(tmp_path)]) == 0
    # Writing again changes nothing: the output is deterministic.
    capsys.readouterr()
    assert docs.main(["--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_every_generated_file_ends_with_one_newline() -> None:
    for name, text in docs.render().items():
        assert text.endswith("\n") and not text.endswith("\n\n"), name


def test_catalog_is_registered_and_covers_every_topic() -> None:
    for cls in CATALOG:
        assert event_type(cls.ce_type) is cls
        assert REGISTRY[cls.ce_type] is cls
    assert {cls.topic for cls in CATALOG} == set(ALL_TOPICS)
    assert len({cls.ce_type for cls in CATALOG}) == len(CATALOG)


def test_schema_files_identify_themselves() -> None:
    for cls in CATALOG:
        schema = json.loads((docs.ROOT / docs.schema_file(cls.ce_type)).read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == f"https://edvent.dev/schemas/{cls.ce_type}.json"
        assert schema["title"] == cls.ce_type
        assert (schema["x-topic"], schema["x-key"]) == (cls.topic, cls.key_field)
        # Open for fields added later within the major version.
        assert "additionalProperties" not in json.dumps(schema)


@pytest.mark.parametrize("module", [content, assessment, ai_notes])
def test_every_field_is_explained_for_data_teams(module: object) -> None:
    classes = [cls for cls in CATALOG if cls.__module__ == getattr(module, "__name__", "")]
    assert classes
    for cls in classes:
        assert cls.__doc__, cls
        schema = docs.schema_document(cls)
        nested = [d["properties"] for d in schema.get("$defs", {}).values()]
        for properties in [schema["properties"], *nested]:
            for name, prop in properties.items():
                assert prop.get("description"), f"{cls.ce_type}: {name} has no description"


def test_asyncapi_document_describes_every_topic_and_event_type() -> None:
    doc = yaml.safe_load((docs.ROOT / docs.ASYNCAPI_FILE).read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert doc["servers"]["local"] == {
        "host": "127.0.0.1:9092",
        "protocol": "kafka",
        "description": doc["servers"]["local"]["description"],
    }
    assert "<topic>.dlq.<consumer-service>" in doc["info"]["description"]
    for header in ("x-error", "x-failed-at", "x-attempts"):
        assert header in doc["info"]["description"]

    assert {channel["address"] for channel in doc["channels"].values()} == set(ALL_TOPICS)
    sent = {
        ref["$ref"].rsplit("/", 1)[1]
        for operation in doc["operations"].values()
        if operation["action"] == "send"
        for ref in operation["messages"]
    }
    assert sent == {cls.ce_type for cls in CATALOG}

    for cls in CATALOG:
        message = doc["components"]["messages"][cls.ce_type]
        assert message["name"] == cls.__name__
        assert message["title"]
        assert message["contentType"] == "application/json"
        assert message["payload"] == {"$ref": f"#/components/schemas/{cls.ce_type}"}
        assert cls.ce_type in doc["components"]["schemas"]
        headers = message["headers"]["properties"]
        assert headers["ce_specversion"]["const"] == "1.0"
        assert headers["ce_type"]["const"] == cls.ce_type
        assert headers["ce_source"]["const"] == cls.source
        assert headers["ce_id"]["format"] == "uuid"
        assert headers["ce_time"]["format"] == "date-time"
        assert "traceparent" not in message["headers"]["required"]
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        [example] = message["examples"]
        event = cls.model_validate(example["payload"])
        assert example["headers"]["ce_subject"] == event.subject
        assert example["headers"]["ce_type"] == cls.ce_type


def test_asyncapi_references_resolve() -> None:
    doc = yaml.safe_load((docs.ROOT / docs.ASYNCAPI_FILE).read_text())

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    target: object = doc
                    for part in value.removeprefix("#/").split("/"):
                        assert isinstance(target, dict) and part in target, value
                        target = target[part]
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
