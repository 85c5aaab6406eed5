"""Generate the committed event documents from the event models.

    uv run python -m edvent_events.docs            write libs/events/schemas/*.json and
                                                   libs/events/asyncapi.yaml
    uv run python -m edvent_events.docs --check    exit 1 and list the files that differ

Output is deterministic (sorted keys, fixed samples, trailing newline) so the committed
files can be compared byte for byte. Writing refuses a schema change that breaks
the committed schema of the same major version (see `edvent_events.compat`): the
committed files are the baseline, and silently regenerating them would hide the break.
Schema files of retired versions (no model any more) are never deleted.

Released snapshots: every schema an event type has ever had is kept, immutable, as
`schemas/released/<ce_type>/<n>.json` (n = 1, 2, ... in order), each pinned by its
SHA-256 in `schemas/released/SHA256SUMS` (the `sha256sum` format, so `cd
schemas/released && sha256sum -c SHA256SUMS` checks it too). Writing adds the next
snapshot when a model's schema changed compatibly, and its line. The generated
`schemas/<ce_type>.json` can be regenerated along with a break and committed; the
snapshots cannot, without a visible edit of a pinned line (`released_problems`, which
the tests run). Each model is checked against every snapshot of its major version,
not only the latest, so a break cannot be walked in through several small steps.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema
from pydantic_core import CoreSchema

from edvent_events.catalog import CATALOG
from edvent_events.compat import catalog_incompatibilities, incompatibilities
from edvent_events.contract import Event
from edvent_events.envelope import CONTENT_TYPE, SPEC_VERSION, encode
from edvent_events.samples import EVENT_ID, FACTORIES, TRACEPARENT, occurred_at

ROOT = Path(__file__).resolve().parents[2]  # libs/events
SCHEMA_DIR = "schemas"
RELEASED_DIR = f"{SCHEMA_DIR}/released"
MANIFEST_FILE = f"{RELEASED_DIR}/SHA256SUMS"
ASYNCAPI_FILE = "asyncapi.yaml"
SCHEMA_BASE_URL = "https://edvent.dev/schemas/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_REF_TEMPLATE = "#/components/schemas/{model}"
# Bump the minor version when event types or optional fields are added. Breaking
# changes never bump the major: they get a new ce_type instead.
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class _SchemaGenerator(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        # Pydantic's per-field titles ("Course Id") only repeat the property name.
        return False


def _open_objects(node: Any) -> Any:
    """Drop `additionalProperties: false` everywhere.

    The models forbid extra fields so producers cannot invent them. The published
    schema stays open instead: a reader validating with an older v1 schema must accept
    v1 data that carries fields added later, or adding an optional field would break it.
    """
    if isinstance(node, dict):
        return {
            key: _open_objects(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(node, list):
        return [_open_objects(item) for item in node]
    return node


def service_of(cls: type[Event]) -> str:
    """`/services/ai-notes` -> `ai-notes`."""
    return cls.source.rstrip("/").rsplit("/", 1)[-1]


def event_json_schema(
    cls: type[Event], *, ref_template: str = DEFAULT_REF_TEMPLATE
) -> dict[str, Any]:
    """The JSON Schema of an event's data (the Kafka value), titled with its ce_type."""
    schema: dict[str, Any] = cls.model_json_schema(
        mode="serialization", ref_template=ref_template, schema_generator=_SchemaGenerator
    )
    schema = _open_objects(schema)
    schema["title"] = cls.ce_type
    # Wire identity, so one file is enough to subscribe; `compat` keeps them stable.
    schema["x-topic"] = cls.topic
    schema["x-source"] = cls.source
    schema["x-key"] = cls.key_field
    return schema


def schema_document(cls: type[Event]) -> dict[str, Any]:
    """A stand-alone JSON Schema (draft 2020-12) file for one event type."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE_URL}{cls.ce_type}.json",
        **event_json_schema(cls),
    }


def schema_file(ce_type: str) -> str:
    return f"{SCHEMA_DIR}/{ce_type}.json"


def _headers_schema(cls: type[Event], key_schema: dict[str, Any]) -> dict[str, Any]:
    def const(value: str, description: str) -> dict[str, Any]:
        return {"type": "string", "const": value, "description": description}

    return {
        "type": "object",
        "description": "Kafka record headers: CloudEvents 1.0 attributes in binary mode.",
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_subject",
            "content-type",
        ],
        "properties": {
            "ce_specversion": const(SPEC_VERSION, "CloudEvents specification version."),
            "ce_id": {
                "type": "string",
                "format": "uuid",
                "description": (
                    "Unique id of this event. Delivery is at least once: a redelivered "
                    "event has the same id, so deduplicate on it."
                ),
            },
            "ce_source": const(cls.source, "The producing service."),
            "ce_type": const(cls.ce_type, "Event type; selects the schema of the value."),
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": (
                    "When the change happened (the producer's transaction), RFC 3339 in "
                    "UTC; not when the record was written to Kafka."
                ),
            },
            "ce_subject": {
                **key_schema,
                "description": f"The aggregate id: equals the record key and `{cls.key_field}`.",
            },
            "content-type": const(CONTENT_TYPE, "Media type of the record value."),
            "traceparent": {
                "type": "string",
                "pattern": TRACEPARENT_PATTERN,
                "description": "Optional W3C Trace Context of the request that caused the event.",
            },
        },
    }


def _message(cls: type[Event]) -> dict[str, Any]:
    data_schema = event_json_schema(cls)
    key_property = data_schema["properties"][cls.key_field]
    key_schema = {k: v for k, v in key_property.items() if k in ("type", "format")}
    description = inspect.cleandoc(cls.__doc__ or "")
    return {
        "name": cls.__name__,
        "title": _title(cls.__name__),
        "summary": description.splitlines()[0] if description else cls.__name__,
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": _headers_schema(cls, key_schema),
        "payload": {"$ref": f"#/components/schemas/{cls.ce_type}"},
        "bindings": {
            "kafka": {
                "key": {
                    **key_schema,
                    "description": (
                        f"The aggregate id (`{cls.key_field}`), so all events of one "
                        f"aggregate land in one partition, in order."
                    ),
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": _examples(cls),
    }


def _examples(cls: type[Event]) -> list[dict[str, Any]]:
    # Every catalog type has a factory (samples checks that at import); ad-hoc types
    # such as those of the tests may have none.
    factory = FACTORIES.get(cls)
    if factory is None:
        return []
    event = factory()
    message = encode(event, event_id=EVENT_ID, time=occurred_at(event), traceparent=TRACEPARENT)
    return [
        {
            "name": "sample",
            "summary": f"One {cls.__name__} event as it appears on {cls.topic}",
            "headers": {name: value.decode() for name, value in message.headers},
            "payload": json.loads(message.value),
        }
    ]


def _title(class_name: str) -> str:
    """`LessonPublished` -> `Lesson published`."""
    words: list[str] = []
    for char in class_name:
        if char.isupper() and words:
            words.append(" ")
        words.append(char.lower() if words else char)
    return "".join(words)


def _channel_id(topic: str) -> str:
    return topic


def _operation_id(topic: str) -> str:
    return "send_" + "".join(c if c.isalnum() else "_" for c in topic)


def asyncapi_document(events: Sequence[type[Event]] = CATALOG) -> dict[str, Any]:
    """An AsyncAPI 3.0.0 document of every topic and event type in `events`."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_topic: dict[str, list[type[Event]]] = {}
    for cls in events:
        schema = event_json_schema(cls, ref_template=ASYNCAPI_REF_TEMPLATE)
        for name, definition in schema.pop("$defs", {}).items():
            if schemas.get(name, definition) != definition:
                raise ValueError(f"two different models are both named {name!r}; rename one")
            schemas[name] = definition
        if cls.ce_type in schemas:
            raise ValueError(f"schema name {cls.ce_type!r} is used twice")
        schemas[cls.ce_type] = schema
        messages[cls.ce_type] = _message(cls)
        by_topic.setdefault(cls.topic, []).append(cls)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, members in by_topic.items():
        services = sorted({service_of(cls) for cls in members})
        keys = sorted({cls.key_field for cls in members})
        channels[_channel_id(topic)] = {
            "address": topic,
            "title": topic,
            "description": (
                f"Produced by {', '.join(services)}. Record key: {', '.join(keys)}. "
                f"Event types: {', '.join(cls.ce_type for cls in members)}. Select the "
                "schema by the `ce_type` header and skip types you do not know."
            ),
            "messages": {
                cls.ce_type: {"$ref": f"#/components/messages/{cls.ce_type}"} for cls in members
            },
        }
        for service in services:
            sent = [cls for cls in members if service_of(cls) == service]
            op_id = _operation_id(topic) if len(services) == 1 else f"{service}_{topic}"
            operations[op_id] = {
                "action": "send",
                "title": f"{service} publishes on {topic}",
                "summary": f"The {service} service publishes these events through its outbox.",
                "channel": {"$ref": f"#/channels/{_channel_id(topic)}"},
                "messages": [
                    {"$ref": f"#/channels/{_channel_id(topic)}/messages/{cls.ce_type}"}
                    for cls in sent
                ],
                "tags": [{"name": service}],
            }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Edvent events",
            "version": DOCUMENT_VERSION,
            "description": _INFO_DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The broker of `make dev` (`KAFKA_PORT` changes the port).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


_INFO_DESCRIPTION = """\
Every domain event of the Edvent platform, generated from the Pydantic models in
`libs/events` (`edvent_events.catalog`). Stand-alone JSON Schemas (draft 2020-12) of
each event's data are in `libs/events/schemas/<ce_type>.json`.

## Envelope

CloudEvents 1.0 in Kafka binary mode: the attributes are the `ce_*` headers
(`ce_specversion`, `ce_id`, `ce_source`, `ce_type`, `ce_time`, `ce_subject`),
`content-type` is `application/json`, the record value is the JSON data, and the record
key is the aggregate id (equal to `ce_subject`), so one aggregate's events are in one
partition, in order. A W3C `traceparent` header travels when the producer had one.

## Reading

- Delivery is at least once: deduplicate on `ce_id`.
- A topic carries several event types: choose the schema by `ce_type`, skip unknown types.
- Ignore unknown data fields and tolerate unknown enum values: both may be added
  without a new version.

## Versions

The `ce_type` ends in a major version (`.v1`). Within a major version a schema only
gains optional fields and enum values; nothing is removed, retyped or newly required
(a test in `libs/events` enforces this against the committed schema files). A breaking
change is a new `ce_type` (`.v2`) with its own schema file; the old file stays.

## Dead letters

A consuming service that cannot handle a message (undecodable, or its handler keeps
failing after retries with backoff) writes it to `<topic>.dlq.<consumer-service>`,
e.g. `content.lessons.dlq.ai-notes`, and goes on. The dead letter has the original key,
value and headers, plus `x-error` (exception type and message), `x-failed-at`
(RFC 3339), `x-attempts` (number of handling attempts) and `x-original-topic`,
`x-original-partition`, `x-original-offset`. `edvent-events dlq <dlq-topic>` lists them
and `edvent-events redrive <dlq-topic>` sends them back to the original topic.
"""


def render(events: Sequence[type[Event]] = CATALOG) -> dict[str, str]:
    """Every generated file, by path relative to `libs/events`, with its exact text."""
    files = {schema_file(cls.ce_type): _json_text(schema_document(cls)) for cls in events}
    files[ASYNCAPI_FILE] = _yaml_text(asyncapi_document(events))
    return files


def _json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _yaml_text(document: dict[str, Any]) -> str:
    import yaml  # only the generator needs it

    # A private Dumper subclass, so the literal-block style does not leak into other
    # users of yaml.safe_dump in the same process.
    dumper: Any = type("_DocsDumper", (yaml.SafeDumper,), {})

    def represent_str(representer: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    dumper.add_representer(str, represent_str)
    text: str = yaml.dump(
        document,
        Dumper=dumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text if text.endswith("\n") else text + "\n"


def differing(root: Path, files: dict[str, str]) -> list[str]:
    """Generated files whose committed copy is missing or different."""
    return sorted(
        name
        for name, text in files.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    )


def committed_schemas(root: Path) -> dict[str, dict[str, Any]]:
    """The committed schema files by ce_type: the compatibility baseline."""
    result: dict[str, dict[str, Any]] = {}
    for path in sorted((root / SCHEMA_DIR).glob("*.json")):
        result[path.name.removesuffix(".json")] = json.loads(path.read_text(encoding="utf-8"))
    return result


def breaking_changes(root: Path, events: Iterable[type[Event]] = CATALOG) -> list[str]:
    """Changes of the models that break their committed schema of the same ce_type, or
    any released snapshot of it."""
    baseline = committed_schemas(root)
    released = released_schemas(root)
    problems: list[str] = []
    for cls in events:
        current = schema_document(cls)
        if cls.ce_type in baseline:
            problems += [
                f"{cls.ce_type}: {problem}"
                for problem in incompatibilities(baseline[cls.ce_type], current)
            ]
        for number, snapshot in released.get(cls.ce_type, []):
            problems += [
                f"{cls.ce_type} (released snapshot {number}): {problem}"
                for problem in incompatibilities(snapshot, current)
            ]
    return problems


# --- released snapshots ------------------------------------------------------------------


def snapshot_file(ce_type: str, number: int) -> str:
    return f"{RELEASED_DIR}/{ce_type}/{number}.json"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(root: Path) -> dict[str, str]:
    """The pinned hashes: {path relative to `schemas/released`: sha256}."""
    path = root / MANIFEST_FILE
    if not path.is_file():
        return {}
    pinned: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ValueError(f"{MANIFEST_FILE}:{number}: not '<sha256>  <path>': {line!r}")
        pinned[name] = digest
    return pinned


def manifest_text(pinned: dict[str, str]) -> str:
    lines = sorted(pinned.items(), key=_by_release)
    return "".join(f"{digest}  {name}\n" for name, digest in lines)


def _by_release(item: tuple[str, str]) -> tuple[str, int]:
    ce_type, _, number = item[0].removesuffix(".json").rpartition("/")
    return ce_type, int(number) if number.isdigit() else 0


def _snapshot_paths(root: Path) -> dict[str, Path]:
    """Every file under `schemas/released` but the manifest, by its manifest name."""
    folder = root / RELEASED_DIR
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path != root / MANIFEST_FILE
    }


def released_schemas(root: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The released snapshots by ce_type, oldest first: [(n, schema), ...]."""
    result: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for name, path in _snapshot_paths(root).items():
        ce_type, _, number = name.removesuffix(".json").rpartition("/")
        if not number.isdigit():
            continue  # reported by released_problems
        schema = json.loads(path.read_text(encoding="utf-8"))
        result.setdefault(ce_type, []).append((int(number), schema))
    return {ce_type: sorted(items, key=lambda item: item[0]) for ce_type, items in result.items()}


PINNED_CHANGE_HINT = (
    "Released snapshots are immutable: data teams' readers were written against them. "
    "Restore the file. To rewrite a released schema on purpose, change its line in "
    f"{MANIFEST_FILE} in the same commit, where reviewers see it."
)


def snapshot_integrity_problems(root: Path) -> list[str]:
    """The released snapshots are as pinned: no pinned file changed or missing, none
    unpinned, each named `<ce_type>/<n>.json` and numbered 1, 2, ... per type."""
    problems: list[str] = []
    pinned = read_manifest(root)
    files = _snapshot_paths(root)
    for name, digest in pinned.items():
        path = files.get(name)
        if path is None:
            problems.append(f"{name}: pinned in {MANIFEST_FILE} but missing. {PINNED_CHANGE_HINT}")
        elif (actual := sha256_text(path.read_text(encoding="utf-8"))) != digest:
            problems.append(
                f"{name}: changed since it was released (sha256 {actual}, pinned {digest}). "
                + PINNED_CHANGE_HINT
            )
    for name in files:
        if not re.fullmatch(r"[^/]+\.v\d+/[1-9]\d*\.json", name):
            problems.append(f"{name}: not named <ce_type>/<n>.json; remove it")
        elif name not in pinned:
            problems.append(
                f"{name}: not pinned in {MANIFEST_FILE}; `make docs` writes and pins "
                "snapshots, remove this one"
            )
    for ce_type, items in released_schemas(root).items():
        numbers = [number for number, _ in items]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{ce_type}: released snapshots are {numbers}, not 1..{len(numbers)}")
    return problems


def released_problems(root: Path, events: Sequence[type[Event]] = CATALOG) -> list[str]:
    """Everything the gate refuses: the snapshots not as pinned, a model incompatible
    with any snapshot of its major version, a model whose schema is not released yet,
    a released type dropped without a higher major version."""
    problems = snapshot_integrity_problems(root)
    released = released_schemas(root)
    current = {cls.ce_type: schema_document(cls) for cls in events}
    for ce_type, items in sorted(released.items()):
        for number, snapshot in items:
            problems += [
                f"{problem} (against released snapshot {number})"
                for problem in catalog_incompatibilities({ce_type: snapshot}, current)
            ]
    for cls in events:
        items = released.get(cls.ce_type, [])
        if not items or items[-1][1] != current[cls.ce_type]:
            problems.append(f"{cls.ce_type}: its current schema is not released; run `make docs`")
    return problems


def pending_snapshots(root: Path, events: Sequence[type[Event]] = CATALOG) -> dict[str, str]:
    """The snapshots writing would add (a model whose schema differs from its latest
    snapshot, or has none), and the manifest with their lines, by path and text."""
    released = released_schemas(root)
    pinned = read_manifest(root)
    files: dict[str, str] = {}
    for cls in events:
        document = schema_document(cls)
        items = released.get(cls.ce_type, [])
        if items and items[-1][1] == document:
            continue
        name = snapshot_file(cls.ce_type, (items[-1][0] if items else 0) + 1)
        text = _json_text(document)
        files[name] = text
        pinned[name.removeprefix(f"{RELEASED_DIR}/")] = sha256_text(text)
    if files:
        files[MANIFEST_FILE] = manifest_text(pinned)
    return files


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write the files that changed; returns their names."""
    changed = differing(root, files)
    for name in changed:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[name], encoding="utf-8")
    return changed


def run(root: Path, events: Sequence[type[Event]] = CATALOG, *, check: bool = False) -> int:
    """Write (or with `check`, compare) the generated files under `root`; the exit code."""
    files = render(events)
    if check:
        stale = differing(root, files) + sorted(pending_snapshots(root, events))
        for name in stale:
            print(f"out of date: {root / name}", file=sys.stderr)
        if stale:
            print("run: uv run python -m edvent_events.docs", file=sys.stderr)
        return 1 if stale else 0
    tampered = snapshot_integrity_problems(root)
    if tampered:
        print("refusing to write: the released snapshots are not as pinned:", file=sys.stderr)
        for problem in tampered:
            print(f"  {problem}", file=sys.stderr)
        return 2
    problems = breaking_changes(root, events)
    if problems:
        print("refusing to overwrite committed schemas with breaking changes:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            "Keep the change compatible (add optional fields only) or publish a new major "
            "version: a new ce_type ending in .v<N+1>.",
            file=sys.stderr,
        )
        return 2
    # The snapshots after the files: an interrupted run leaves a new schema unreleased
    # (the tests say so), never a released one that was not written.
    snapshots = pending_snapshots(root, events)
    for name in write(root, files) + write(root, snapshots):
        print(f"wrote {root / name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m edvent_events.docs",
        description="Generate the event JSON Schemas and the AsyncAPI document.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file differs"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="default: %(default)s")
    args = parser.parse_args(argv)
    return run(args.root, check=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
