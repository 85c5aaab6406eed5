"""ai-notes through the gateway: a published lesson gets notes that search finds."""

from __future__ import annotations

import pytest

from .helpers import admin as bootstrap_admin
from .helpers import note_ready

pytestmark = pytest.mark.e2e

LESSON = """# Heat engines

## The first law

The first law of thermodynamics states that energy is conserved: the heat added to a
system equals the change in its internal energy plus the work the system does. A gas
that expands while heated turns part of the heat into work on a piston.

## Efficiency

The Carnot efficiency is the largest fraction of heat any engine working between two
temperatures can turn into work. It depends only on the temperatures of the hot and the
cold reservoir, measured in kelvin, and no real engine reaches it because of friction.

## Refrigerators

A refrigerator is a heat engine run backwards: work moves heat from the cold inside to
the warm kitchen. Its coefficient of performance compares the heat removed with the
work spent by the compressor.
"""

OTHER = """# Lenses

## Refraction

Light bends when it passes from air into glass, because it travels more slowly in
glass. A straw in a glass of water looks broken for the same reason.

## Focal length

A converging lens brings parallel rays to a point called the focus; the distance from
the lens to that point is its focal length, shorter for a more curved lens.
"""


async def test_a_published_lesson_gets_ready_notes_found_by_concept_and_search(gateway):
    admin = await bootstrap_admin(gateway)
    course = await gateway.post(
        "/api/v1/courses", json={"title": "Thermodynamics", "description": "d"}, headers=admin
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    ids = []
    for title, body in (("Heat engines", LESSON), ("Lenses", OTHER)):
        lesson = await gateway.post(
            f"/api/v1/courses/{course_id}/lessons",
            json={"title": title, "content_markdown": body},
            headers=admin,
        )
        assert lesson.status_code == 201, lesson.text
        ids.append(lesson.json()["id"])
        publish = await gateway.post(f"/api/v1/lessons/{ids[-1]}/publish", headers=admin)
        assert publish.status_code == 200, publish.text
    assert (await gateway.post(f"/api/v1/courses/{course_id}/publish", headers=admin)).is_success
    lesson_id, other_id = ids

    note = await note_ready(gateway, admin, lesson_id)
    await note_ready(gateway, admin, other_id)
    assert set(note) >= {"lesson_id", "status", "summary_markdown", "key_concepts",
                         "generated_at", "model"}, note  # fmt: skip
    assert note["model"] == "local-extractive-v1"
    for heading in ("## The first law", "## Efficiency", "## Refrigerators"):
        assert heading in note["summary_markdown"]
    assert all(set(c) >= {"name", "definition"} for c in note["key_concepts"]), note
    concepts = [c["name"] for c in note["key_concepts"]]
    assert concepts and all(c.lower() in LESSON.lower() for c in concepts), concepts

    # Any case finds the note by one of its concepts.
    found = await gateway.get(
        "/api/v1/notes", params={"concept": f" {concepts[0].upper()} "}, headers=admin
    )
    assert found.status_code == 200, found.text
    assert lesson_id in {item["lesson_id"] for item in found.json()["items"]}

    for question, expected in (
        ("why can no engine turn all its heat into work", lesson_id),
        ("why does a straw in water look bent", other_id),
    ):
        search = await gateway.get(
            "/api/v1/notes/search", params={"q": question, "course_id": course_id}, headers=admin
        )
        assert search.status_code == 200, search.text
        [best, *_] = search.json()["items"]
        assert best["lesson_id"] == expected, (question, best)
        assert isinstance(best["score"], int | float), best
        assert best["snippet"].startswith(" > ".join(best["heading_path"]) + ": ")
