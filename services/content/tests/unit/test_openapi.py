"""content's OpenAPI document says what the service really answers."""

from __future__ import annotations

from typing import Any

import pytest

from edvent_content.main import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def test_operation_ids_read_as_client_method_names(document) -> None:
    ids = sorted(op["operationId"] for item in document["paths"].values() for op in item.values())
    assert ids == [
        "addLesson", "archiveCourse", "createCourse", "deleteLesson", "getCourse", "getLesson",
        "listCourses", "listLessons", "publishCourse", "publishLesson", "readContent",
        "replaceContent", "unpublishCourse", "unpublishLesson", "updateCourse",
    ]  # fmt: skip


def test_created_courses_and_lessons_link_to_what_takes_their_id(document) -> None:
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    course = document["paths"]["/api/v1/courses"]["post"]["responses"]["201"]
    lesson = document["paths"]["/api/v1/courses/{course_id}/lessons"]["post"]["responses"]["201"]
    for links in (course["links"], lesson["links"]):
        assert {link["operationId"] for link in links.values()} <= ids


def test_every_json_request_body_has_an_example(document) -> None:
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                name = body["schema"]["$ref"].rsplit("/", 1)[1]
                assert schemas[name]["examples"], name


def test_list_cursors_and_owner_are_documented_by_exact_patterns(document) -> None:
    courses = document["paths"]["/api/v1/courses"]["get"]["parameters"]
    lessons = document["paths"]["/api/v1/courses/{course_id}/lessons"]["get"]["parameters"]
    patterns = {
        p["name"]: p["schema"]["anyOf"][0].get("pattern")
        for p in courses + lessons
        if "anyOf" in p["schema"]
    }
    assert patterns["owner"].startswith("^(me|")
    assert all(patterns[name] for name in ("owner", "cursor"))
