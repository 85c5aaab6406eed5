"""The OpenAPI document says what the server really does: its statuses, the constraints
it enforces, examples it accepts, and operation ids a generated client reads well."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from edvent_assessment.api.schemas import (
    NOT_BLANK_PATTERN,
    AnswerBody,
    ExamCreate,
    QuestionCreate,
    SubmitBody,
)
from edvent_assessment.main import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def schema_validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource(
        "urn:doc", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator(
        {"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry
    )


def test_operation_ids_read_well_in_generated_clients(document) -> None:
    assert {key: op["operationId"] for key, op in operations(document).items()} == {
        "POST /api/v1/exams": "createExam",
        "GET /api/v1/exams": "listExams",
        "GET /api/v1/exams/{exam_id}": "getExam",
        "POST /api/v1/exams/{exam_id}/questions": "addQuestion",
        "POST /api/v1/exams/{exam_id}/publish": "publishExam",
        "POST /api/v1/exams/{exam_id}/attempts": "startAttempt",
        "GET /api/v1/exams/{exam_id}/attempts": "listExamAttempts",
        "GET /api/v1/exams/{exam_id}/analytics": "getExamAnalytics",
        "GET /api/v1/exams/{exam_id}/grades": "listGrades",
        "GET /api/v1/exams/{exam_id}/grades/me": "getOwnGrade",
        "POST /api/v1/attempts/{attempt_id}/submit": "submitAttempt",
        "POST /api/v1/attempts/{attempt_id}/answers": "answerQuestion",
        "GET /api/v1/attempts/{attempt_id}": "getAttempt",
        "GET /api/v1/attempts": "listOwnAttempts",
    }


def test_every_status_a_route_answers_is_documented_as_a_problem(document) -> None:
    body = {"413"}
    expected = {
        "POST /api/v1/exams": {"201", "403", "409", *body},
        "GET /api/v1/exams": {"200"},
        "GET /api/v1/exams/{exam_id}": {"200", "404"},
        "POST /api/v1/exams/{exam_id}/questions": {"201", "403", "404", "409", *body},
        "POST /api/v1/exams/{exam_id}/publish": {"200", "403", "404", "409"},
        "POST /api/v1/exams/{exam_id}/attempts": {"201", "403", "404", "409"},
        "GET /api/v1/exams/{exam_id}/attempts": {"200", "403", "404"},
        "GET /api/v1/exams/{exam_id}/analytics": {"200", "403", "404"},
        "GET /api/v1/exams/{exam_id}/grades": {"200", "403", "404"},
        "GET /api/v1/exams/{exam_id}/grades/me": {"200", "403", "404"},
        "POST /api/v1/attempts/{attempt_id}/submit": {"200", "403", "404", "409", *body},
        "POST /api/v1/attempts/{attempt_id}/answers": {"200", "403", "404", "409", *body},
        "GET /api/v1/attempts/{attempt_id}": {"200", "404"},
        "GET /api/v1/attempts": {"200"},
    }
    for key, operation in operations(document).items():
        # Every route needs a token and validates its input; any may find PostgreSQL gone.
        # 414 where parameters are taken: the gateway's own page for an overlong URL.
        too_long = {"414"} if operation.get("parameters") else set()
        assert set(operation["responses"]) == expected[key] | {"401", "422", "503"} | too_long, key
        for status, response in operation["responses"].items():
            if int(status) >= 400 and status != "414":
                assert "application/problem+json" in response["content"], (key, status)
    conflict = operations(document)["POST /api/v1/exams"]["responses"]["409"]
    assert conflict["headers"]["Retry-After"]["required"] is True


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ExamCreate", ExamCreate),
        ("QuestionCreate", QuestionCreate),
        ("SubmitBody", SubmitBody),
        ("AnswerBody", AnswerBody),
    ],
)
def test_every_request_body_has_examples_the_schema_and_the_server_accept(
    document, name: str, model: type[BaseModel]
) -> None:
    examples = document["components"]["schemas"][name]["examples"]
    assert examples
    validator = schema_validator(document, name)
    for example in examples:
        validator.validate(example)
        model.model_validate(example)


def test_blank_means_the_same_to_the_documented_pattern_and_to_the_server() -> None:
    # The pattern is read as ECMAScript by clients and as Python by the fuzzer; the
    # server trims. A character is blank to the server iff the pattern does not match it.
    pattern = re.compile(NOT_BLANK_PATTERN)
    base = {"course_id": "0b5c3d9e-6f1a-4c2b-8d7e-2a9f4e6b1c3d", "duration_seconds": 60}
    disagree = []
    for code in [*range(0x3100), 0xFEFF]:
        char = chr(code)
        if 0xD800 <= code < 0xE000:
            continue
        try:
            ExamCreate.model_validate({**base, "passing_score_percent": 1, "title": char})
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != bool(pattern.search(char)):
            disagree.append(hex(code))
    assert disagree == []


def test_a_title_of_a_byte_order_mark_is_blank() -> None:
    with pytest.raises(ValidationError, match="blank"):
        ExamCreate.model_validate(
            {
                "course_id": "0b5c3d9e-6f1a-4c2b-8d7e-2a9f4e6b1c3d",
                "title": "\ufeff ",
                "duration_seconds": 60,
                "passing_score_percent": 50,
            }
        )


def test_the_question_schema_states_the_rules_json_schema_can(document) -> None:
    schemas = document["components"]["schemas"]
    question = schemas["QuestionCreate"]
    assert question["properties"]["correct_option_ids"]["uniqueItems"] is True
    assert question["properties"]["options"]["items"] == {"$ref": "#/components/schemas/OptionIn"}
    assert schemas["OptionIn"]["properties"]["id"]["pattern"] == NOT_BLANK_PATTERN
    # Standard JSON Schema keywords, not pydantic's own names (`gt`, `le`).
    assert question["properties"]["discrimination"]["anyOf"][0] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 10,
    }
    validator = schema_validator(document, "QuestionCreate")
    two = {
        "prompt": "Pick",
        "kind": "single_choice",
        "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        "correct_option_ids": ["a", "b"],
    }
    assert not validator.is_valid(two)
    assert validator.is_valid({**two, "kind": "multiple_choice"})
    assert not validator.is_valid(
        {**two, "kind": "multiple_choice", "correct_option_ids": ["a", "a"]}
    )


def test_an_answer_schema_refuses_what_the_server_refuses(document) -> None:
    validator = schema_validator(document, "AnswerBody")
    question_id = "5f0e7c2a-3b1d-4e8f-9a6c-1d2e3f4a5b6c"
    # The server answers each 422 (integration/test_attempts.py, malformed answers).
    for option_ids in ([], ["a", "a"], [""]):
        assert not validator.is_valid({"question_id": question_id, "option_ids": option_ids})


def test_states_and_kinds_are_enums_in_answers(document) -> None:
    schemas = document["components"]["schemas"]

    def enum(schema: dict[str, Any]) -> list[str]:
        if "$ref" in schema:
            return enum(schemas[schema["$ref"].rsplit("/", 1)[1]])
        return schema["enum"]

    assert enum(schemas["ExamPublic"]["properties"]["status"]) == ["draft", "published"]
    assert enum(schemas["AttemptPublic"]["properties"]["status"]) == [
        "in_progress",
        "completed",
        "expired",
    ]
    assert enum(schemas["QuestionPublic"]["properties"]["kind"]) == [
        "single_choice",
        "multiple_choice",
    ]
    assert enum(schemas["AttemptQuestion"]["properties"]["kind"]) == [
        "single_choice",
        "multiple_choice",
    ]


def test_the_rule_across_min_items_and_max_items_is_documented(document) -> None:
    # JSON Schema cannot compare two fields, so the 422 for max_items below min_items is
    # stated in words where a client author reads: the field, the config, the operation.
    create = operations(document)["POST /api/v1/exams"]
    assert "`max_items` is below its `min_items`" in create["responses"]["422"]["description"]
    assert '`["body", "config", "adaptive", "max_items"]`' in create["description"]
    adaptive = document["components"]["schemas"]["AdaptiveConfig"]["properties"]
    assert "At least min_items" in adaptive["max_items"]["description"]
    assert "At most max_items" in adaptive["min_items"]["description"]
    config = document["components"]["schemas"]["ExamCreate"]["properties"]["config"]
    assert "`max_items` below `min_items`" in config["description"]
