"""Every released event schema is kept as an immutable snapshot pinned by its SHA-256,
and every model is checked against all snapshots of its major version: a break cannot
be regenerated and committed past the gate, and changing a released schema is a
visible edit of `schemas/released/SHA256SUMS`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from edvent_events import docs
from edvent_events.catalog import CATALOG
from edvent_events.contract import Event

# --- the real catalog ------------------------------------------------------------------


def test_every_model_is_compatible_with_every_released_snapshot_and_released() -> None:
    problems = docs.released_problems(docs.ROOT)
    assert not problems, "the released event schemas refuse this:\n  " + "\n  ".join(problems)


def test_every_event_type_has_a_pinned_snapshot() -> None:
    pinned = docs.read_manifest(docs.ROOT)
    for cls in CATALOG:
        assert f"{cls.ce_type}/1.json" in pinned, cls.ce_type


def test_the_latest_snapshot_is_the_committed_schema_file() -> None:
    for ce_type, items in docs.released_schemas(docs.ROOT).items():
        committed = json.loads((docs.ROOT / docs.schema_file(ce_type)).read_text())
        assert items[-1][1] == committed, ce_type


# --- the gate on small made-up types -----------------------------------------------------

V1 = "edvent.tests.gadget.made.v1"


class GadgetMade(Event):
    topic: ClassVar[str] = "tests.gadgets"
    ce_type: ClassVar[str] = V1
    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "gadget_id"

    gadget_id: str
    size: int


class GadgetMadeWithColour(GadgetMade):
    colour: str | None = None


class GadgetMadeWithoutSize(Event):
    topic: ClassVar[str] = "tests.gadgets"
    ce_type: ClassVar[str] = V1
    source: ClassVar[str] = "/services/tests"
    key_field: ClassVar[str] = "gadget_id"

    gadget_id: str
    colour: str | None = None


class GadgetMadeV2(GadgetMadeWithoutSize):
    ce_type: ClassVar[str] = "edvent.tests.gadget.made.v2"


def released(tmp_path: Path, *events: type[Event]) -> Path:
    for cls in events:
        assert docs.run(tmp_path, [cls]) == 0
    return tmp_path


def test_writing_releases_a_snapshot_and_pins_it(tmp_path: Path) -> None:
    root = released(tmp_path, GadgetMade)
    snapshot = root / docs.snapshot_file(V1, 1)
    assert snapshot.read_text() == (root / docs.schema_file(V1)).read_text()
    assert docs.read_manifest(root) == {f"{V1}/1.json": docs.sha256_text(snapshot.read_text())}
    assert docs.released_problems(root, [GadgetMade]) == []
    # Nothing changed, nothing new released.
    assert docs.pending_snapshots(root, [GadgetMade]) == {}


def test_a_compatible_change_is_released_as_the_next_snapshot(tmp_path: Path) -> None:
    root = released(tmp_path, GadgetMade, GadgetMadeWithColour)
    assert sorted(docs.read_manifest(root)) == [f"{V1}/1.json", f"{V1}/2.json"]
    assert docs.released_problems(root, [GadgetMadeWithColour]) == []
    # Going back is a break against the newer snapshot, and not the latest release.
    problems = docs.released_problems(root, [GadgetMade])
    assert f"{V1}: colour: property removed (against released snapshot 2)" in problems
    assert any("not released" in problem for problem in problems)


def test_a_break_regenerated_and_committed_past_the_generator_is_caught(tmp_path: Path) -> None:
    # What passed before: edit the model incompatibly, write the schema file to match
    # (by hand, or with an older generator) and commit both. The working tree and HEAD
    # then agree with the model; the released snapshot does not.
    root = released(tmp_path, GadgetMade)
    schema_path = root / docs.schema_file(V1)
    schema_path.write_text(docs._json_text(docs.schema_document(GadgetMadeWithoutSize)))
    assert docs.breaking_changes(root, [GadgetMadeWithoutSize])  # the snapshot still counts
    problems = docs.released_problems(root, [GadgetMadeWithoutSize])
    assert f"{V1}: size: property removed (against released snapshot 1)" in problems


def test_every_snapshot_of_the_major_version_counts_not_only_the_latest(tmp_path: Path) -> None:
    # Steps that are each compatible with the one before must be compatible with all:
    # v1/1 has a required `size`; a v1/2 hand-written without it must not launder it.
    root = released(tmp_path, GadgetMade)
    second = docs._json_text(docs.schema_document(GadgetMadeWithoutSize))
    (root / docs.snapshot_file(V1, 2)).write_text(second)
    pinned = docs.read_manifest(root) | {f"{V1}/2.json": docs.sha256_text(second)}
    (root / docs.MANIFEST_FILE).write_text(docs.manifest_text(pinned))
    problems = docs.released_problems(root, [GadgetMadeWithoutSize])
    assert f"{V1}: size: property removed (against released snapshot 1)" in problems
    assert not any("snapshot 2" in problem for problem in problems)


def test_changing_a_released_snapshot_is_refused_and_the_message_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = released(tmp_path, GadgetMade)
    snapshot = root / docs.snapshot_file(V1, 1)
    snapshot.write_text(docs._json_text(docs.schema_document(GadgetMadeWithoutSize)))
    [problem] = docs.snapshot_integrity_problems(root)
    assert problem.startswith(f"{V1}/1.json: changed since it was released")
    assert "immutable" in problem and "SHA256SUMS" in problem
    # The generator refuses to build on a tampered history.
    assert docs.run(root, [GadgetMadeWithoutSize]) == 2
    assert "changed since it was released" in capsys.readouterr().err


def test_a_deliberate_edit_of_the_pinned_hash_is_the_one_way_to_rewrite_a_release(
    tmp_path: Path,
) -> None:
    root = released(tmp_path, GadgetMade)
    rewritten = docs._json_text(docs.schema_document(GadgetMadeWithoutSize))
    (root / docs.snapshot_file(V1, 1)).write_text(rewritten)
    (root / docs.schema_file(V1)).write_text(rewritten)
    manifest = root / docs.MANIFEST_FILE
    manifest.write_text(docs.manifest_text({f"{V1}/1.json": docs.sha256_text(rewritten)}))
    assert docs.released_problems(root, [GadgetMadeWithoutSize]) == []


def test_missing_unpinned_and_misnumbered_snapshots_are_reported(tmp_path: Path) -> None:
    root = released(tmp_path, GadgetMade)
    (root / docs.snapshot_file(V1, 3)).write_text("{}\n")
    (root / docs.RELEASED_DIR / V1 / "notes.txt").write_text("hello\n")
    problems = docs.snapshot_integrity_problems(root)
    assert any(p.startswith(f"{V1}/3.json: not pinned") for p in problems)
    assert any(p.startswith(f"{V1}/notes.txt: not named") for p in problems)
    assert any("released snapshots are [1, 3]" in p for p in problems)

    (root / docs.snapshot_file(V1, 1)).unlink()
    assert any(
        p.startswith(f"{V1}/1.json: pinned in") and "missing" in p
        for p in docs.snapshot_integrity_problems(root)
    )


def test_a_new_major_version_starts_its_own_snapshots_and_retires_the_old(tmp_path: Path) -> None:
    root = released(tmp_path, GadgetMade, GadgetMadeV2)
    assert sorted(docs.read_manifest(root)) == [
        f"{V1}/1.json",
        "edvent.tests.gadget.made.v2/1.json",
    ]
    # v1 is kept; no model produces it, but v2 succeeds it.
    assert docs.released_problems(root, [GadgetMadeV2]) == []


def test_check_reports_a_schema_not_released_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = released(tmp_path, GadgetMade)
    assert docs.run(root, [GadgetMadeWithColour], check=True) == 1
    err = capsys.readouterr().err
    assert docs.snapshot_file(V1, 2) in err and docs.MANIFEST_FILE in err
