"""The retrieval-quality course (tests/data/quality) is whole and well-formed."""

from __future__ import annotations

import json
from pathlib import Path

QUALITY = Path(__file__).resolve().parent.parent / "data/quality"


def test_the_course_has_enough_lessons_and_answerable_questions() -> None:
    course = json.loads((QUALITY / "course.json").read_text())
    lessons = {lesson["id"]: lesson for lesson in course["lessons"]}
    assert len(lessons) == len(course["lessons"]) >= 50
    assert len(course["questions"]) >= 200
    assert len({q["id"] for q in course["questions"]}) == len(course["questions"])
    for question in course["questions"]:
        assert question["question"].strip()
        body = lessons[question["lesson_id"]]["markdown"]
        assert question["answer"] in body  # the lesson holds the answer
    for lesson in lessons.values():
        assert lesson["markdown"].startswith(f"# {lesson['title']}\n")
        assert len(lesson["markdown"].split()) > 300


def test_its_licence_is_noted_next_to_it() -> None:
    readme = (QUALITY / "README.md").read_text()
    assert "CC BY-SA 4.0" in readme
    assert (QUALITY / "LICENSE").is_file()
