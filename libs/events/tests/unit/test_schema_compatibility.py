"""Committed event schemas only evolve compatibly within a major version."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import pytest

from edvent_events import docs
from edvent_events.catalog import CATALOG
from edvent_events.compat import catalog_incompatibilities, incompatibilities, split_ce_type
from edvent_events.contract import Event


def current_schemas() -> dict[str, dict[str, Any]]:
    return {cls.ce_type: docs.schema_document(cls) for cls in CATALOG}


# --- the real catalog against its baselines ------------------------------------------


def test_models_are_compatible_with_the_committed_schemas() -> None:
    baseline = docs.committed_schemas(docs.ROOT)
    assert baseline, "no committed schemas found; run `uv run python -m edvent_events.docs`"
    problems = catalog_incompatibilities(baseline, current_schemas())
    assert not problems, (
        "event schemas changed incompatibly within their major version:\n  "
        + "\n  ".join(problems)
        + "\nAdd optional fields only, or publish a new ce_type ending in .v<N+1>."
    )


def _git_baseline(ref: str) -> dict[str, dict[str, Any]]:
    """The schema files as committed at `ref`, or a skip when git cannot tell."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")

    def run(cwd: Path, *args: str) -> str:
        return subprocess.run(
            [git, "-C", str(cwd), *args], capture_output=True, text=True, check=True
        ).stdout

    try:
        top = Path(run(docs.ROOT, "rev-parse", "--show-toplevel").strip())
        folder = (docs.ROOT.resolve().relative_to(top.resolve()) / docs.SCHEMA_DIR).as_posix()
        paths = run(top, "ls-tree", "--name-only", ref, "--", f"{folder}/").split()
        baseline = {
            Path(path).name.removesuffix(".json"): json.loads(run(top, "show", f"{ref}:{path}"))
            for path in paths
            if path.endswith(".json")
        }
    except (subprocess.CalledProcessError, ValueError) as exc:
        pytest.skip(f"cannot read the schemas at git ref {ref!r}: {exc}")
    if not baseline:
        pytest.skip(f"no committed schemas at git ref {ref!r}")
    return baseline


def test_models_are_compatible_with_the_schemas_in_git() -> None:
    # The working-tree files can be regenerated (or edited) along with a breaking
    # change; the files in git cannot. CI may point this at the target branch.
    ref = os.environ.get("EDVENT_SCHEMA_BASELINE_REF", "HEAD")
    problems = catalog_incompatibilities(_git_baseline(ref), current_schemas())
    assert not problems, f"incompatible with the schemas at {ref}:\n  " + "\n  ".join(problems)


# --- the checker on small hand-made schemas -------------------------------------------

BASE: dict[str, Any] = {
    "type": "object",
    "x-topic": "things",
    "x-key": "id",
    "properties": {
        "id": {"type": "string", "format": "uuid", "description": "the id"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "kind": {"type": "string", "const": "thing"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "parts": {"type": "array", "items": {"$ref": "#/$defs/Part"}},
    },
    "required": ["id", "status", "score", "kind", "parts"],
    "$defs": {
        "Part": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
            "required": ["name"],
        }
    },
}


def changed(**edits: Any) -> dict[str, Any]:
    """A copy of BASE with `edits` applied at `__`-separated paths; None deletes the key."""
    schema = copy.deepcopy(BASE)
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node = schema
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return schema


def test_identical_schemas_are_compatible() -> None:
    assert incompatibilities(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(
            changed(properties__extra={"type": "string", "description": "added later"}),
            id="optional property added",
        ),
        pytest.param(
            changed(properties__status={"type": "string", "enum": ["open", "closed", "held"]}),
            id="enum value added",
        ),
        pytest.param(
            changed(properties__id={"type": "string", "format": "uuid", "description": "new"}),
            id="description changed",
        ),
        pytest.param(
            changed(properties__note={"anyOf": [{"type": "null"}, {"type": "string"}]}),
            id="union variants reordered",
        ),
        pytest.param(
            changed(
                properties__parts={"type": "array", "items": {"$ref": "#/$defs/Piece"}},
                **{"$defs": {"Piece": BASE["$defs"]["Part"]}},
            ),
            id="nested model renamed, same shape",
        ),
        pytest.param(
            changed(**{"$defs__Part__properties__colour": {"type": "string"}}),
            id="optional nested property added",
        ),
    ],
)
def test_compatible_changes_are_allowed(new: dict[str, Any]) -> None:
    assert incompatibilities(BASE, new) == []


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(changed(properties__score=None), "score: property removed", id="removed"),
        pytest.param(
            changed(properties__score={"type": "string"}),
            "score: type changed from integer to string",
            id="type changed",
        ),
        pytest.param(
            changed(properties__score={"type": "number"}),
            "score: type changed from integer to number",
            id="type widened",
        ),
        pytest.param(
            changed(properties__id={"type": "string"}),
            "id: format changed from 'uuid' to None",
            id="format dropped",
        ),
        pytest.param(
            changed(properties__status={"type": "string", "enum": ["open"]}),
            "status: enum values removed: ['closed']",
            id="enum value removed",
        ),
        pytest.param(
            changed(properties__kind={"type": "string", "const": "gadget"}),
            "kind: const changed from 'thing' to 'gadget'",
            id="const changed",
        ),
        pytest.param(
            changed(properties__id={"type": "string", "format": "uuid", "enum": ["x"]}),
            "id: enum constraint added",
            id="enum added to a free value",
        ),
        pytest.param(
            changed(
                properties__extra={"type": "string"},
                required=[*BASE["required"], "extra"],
            ),
            "extra: new required property",
            id="new required property",
        ),
        pytest.param(
            changed(required=[*BASE["required"], "note"]),
            "note: optional property made required",
            id="optional made required",
        ),
        pytest.param(
            changed(required=["id", "status", "score", "kind"]),
            "parts: required property made optional",
            id="required made optional",
        ),
        pytest.param(
            changed(properties__note={"type": "string"}),
            "note: type changed: variant null removed",
            id="nullable made non-null",
        ),
        pytest.param(
            changed(properties__score={"anyOf": [{"type": "integer"}, {"type": "null"}]}),
            "score: type changed: variant null added",
            id="non-null made nullable",
        ),
        pytest.param(
            changed(**{"$defs__Part__properties__name": None}),
            "parts[].name: property removed",
            id="nested property removed",
        ),
        pytest.param(
            changed(**{"$defs__Part__properties__size": {"type": "string"}}),
            "parts[].size: type changed from integer to string",
            id="nested property retyped",
        ),
        pytest.param(
            changed(properties__parts={"type": "array", "items": {"type": "string"}}),
            "parts[]: type changed from object to string",
            id="$ref replaced by another type",
        ),
        pytest.param(
            changed(**{"x-topic": "other.things"}),
            "x-topic changed from 'things' to 'other.things'",
            id="topic moved",
        ),
    ],
)
def test_breaking_changes_are_caught(new: dict[str, Any], expected: str) -> None:
    assert expected in incompatibilities(BASE, new)


def test_recursive_schemas_terminate() -> None:
    tree = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            }
        },
    }
    assert incompatibilities(tree, copy.deepcopy(tree)) == []


# --- the checker on real models ------------------------------------------------------


class WidgetMade(Event):
    topic: ClassVar[str] = "tests.widgets"
    ce_type: ClassVar[str] = "edvent.tests.widget.made.v1"
    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "widget_id"

    widget_id: str
    size: int


class WidgetMadeWithColour(WidgetMade):
    colour: str | None = None


class WidgetMadeWithoutSize(Event):
    topic: ClassVar[str] = "tests.widgets"
    ce_type: ClassVar[str] = "edvent.tests.widget.made.v1"
    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "widget_id"

    widget_id: str


class WidgetMadeV2(WidgetMadeWithoutSize):
    ce_type: ClassVar[str] = "edvent.tests.widget.made.v2"


def test_adding_an_optional_field_to_a_model_is_compatible() -> None:
    old, new = docs.schema_document(WidgetMade), docs.schema_document(WidgetMadeWithColour)
    assert incompatibilities(old, new) == []


def test_removing_a_field_from_a_model_is_caught() -> None:
    old, new = docs.schema_document(WidgetMade), docs.schema_document(WidgetMadeWithoutSize)
    assert incompatibilities(old, new) == ["size: property removed"]


# --- major versions --------------------------------------------------------------------

V1 = "edvent.tests.widget.made.v1"
V2 = "edvent.tests.widget.made.v2"


def test_split_ce_type() -> None:
    assert split_ce_type("edvent.ai_notes.notes.generated.v12") == (
        "edvent.ai_notes.notes.generated",
        12,
    )
    with pytest.raises(ValueError, match="major version"):
        split_ce_type("edvent.tests.unversioned")


def test_a_new_major_version_may_break_and_the_old_baseline_stays() -> None:
    baseline = {V1: docs.schema_document(WidgetMade)}
    current = {V2: docs.schema_document(WidgetMadeV2)}
    assert catalog_incompatibilities(baseline, current) == []


def test_a_breaking_change_within_the_major_version_is_caught_in_the_catalog() -> None:
    baseline = {V1: docs.schema_document(WidgetMade)}
    current = {V1: docs.schema_document(WidgetMadeWithoutSize)}
    assert catalog_incompatibilities(baseline, current) == [f"{V1}: size: property removed"]


def test_dropping_an_event_type_without_a_successor_is_caught() -> None:
    baseline = {V2: docs.schema_document(WidgetMadeV2)}
    current = {V1: docs.schema_document(WidgetMade)}  # a lower major does not count
    [problem] = catalog_incompatibilities(baseline, current)
    assert problem.startswith(f"{V2}: event type no longer produced")


def test_generator_refuses_to_overwrite_a_baseline_with_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docs.run(tmp_path, [WidgetMade]) == 0
    v1_file = tmp_path / docs.schema_file(V1)
    committed = v1_file.read_text()

    assert docs.run(tmp_path, [WidgetMadeWithoutSize]) == 2
    assert "size: property removed" in capsys.readouterr().err
    assert v1_file.read_text() == committed

    assert docs.run(tmp_path, [WidgetMadeWithColour]) == 0
    assert "colour" in v1_file.read_text()


def test_generator_writes_a_new_major_version_beside_the_old_file(tmp_path: Path) -> None:
    assert docs.run(tmp_path, [WidgetMade]) == 0
    committed = (tmp_path / docs.schema_file(V1)).read_text()

    assert docs.run(tmp_path, [WidgetMadeV2]) == 0
    assert (tmp_path / docs.schema_file(V1)).read_text() == committed
    assert (tmp_path / docs.schema_file(V2)).is_file()
    assert docs.run(tmp_path, [WidgetMadeV2], check=True) == 0
    baseline = docs.committed_schemas(tmp_path)
    assert catalog_incompatibilities(baseline, {V2: docs.schema_document(WidgetMadeV2)}) == []
