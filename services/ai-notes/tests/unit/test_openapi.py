"""The OpenAPI document says every status the notes API answers, with operation ids a
generated client reads well."""

from __future__ import annotations

from typing import Any

import pytest

from edvent_ai_notes.main import create_app


@pytest.fixture(scope="module")
def operations() -> dict[str, dict[str, Any]]:
    document = create_app().openapi()
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_operation_ids_read_well_in_generated_clients(operations) -> None:
    assert {key: op["operationId"] for key, op in operations.items()} == {
        "GET /api/v1/notes/search": "searchPassages",
        "GET /api/v1/notes": "listNotesByConcept",
        "GET /api/v1/notes/{lesson_id}": "getNote",
        "POST /api/v1/notes/{lesson_id}/regenerate": "regenerateNote",
    }


def test_every_status_a_route_answers_is_documented_as_a_problem(operations) -> None:
    expected = {
        # 503 also when the provider cannot embed the question, or search's lane to it
        # is full (Retry-After).
        "GET /api/v1/notes/search": {"200"},
        "GET /api/v1/notes": {"200"},
        "GET /api/v1/notes/{lesson_id}": {"200", "404"},
        "POST /api/v1/notes/{lesson_id}/regenerate": {"202", "403", "404"},
    }
    for key, operation in operations.items():
        # 414 where parameters are taken: the gateway's own page for an overlong URL.
        too_long = {"414"} if operation.get("parameters") else set()
        # 429: the gateway's limit on /api/v1/notes (and regenerate's own), Retry-After.
        common = {"401", "422", "429", "503"}
        assert set(operation["responses"]) == expected[key] | common | too_long, key
        for status, response in operation["responses"].items():
            if int(status) >= 400 and status != "414":
                assert "application/problem+json" in response["content"], (key, status)
    unavailable = operations["GET /api/v1/notes/search"]["responses"]["503"]
    assert unavailable["headers"]["Retry-After"]["required"] is True
    for operation in operations.values():
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True
