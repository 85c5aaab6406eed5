"""identity's OpenAPI document says what the service really answers."""

from __future__ import annotations

from typing import Any

import pytest

from edvent_identity.main import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def test_the_jwks_is_documented_with_the_media_type_it_is_served_as(document) -> None:
    content = document["paths"]["/api/v1/auth/jwks"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["application/jwk-set+json"]


def test_operation_ids_read_as_client_method_names(document) -> None:
    ids = sorted(op["operationId"] for item in document["paths"].values() for op in item.values())
    assert ids == [
        "changePassword", "changeRole", "confirmPasswordReset", "eraseMe", "eraseUser", "exportMe",
        "getMe", "getUser", "jwks", "listUsers", "login", "logout", "logoutAll", "refresh",
        "register", "requestPasswordReset", "verifyEmail",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        ("/api/v1/auth/logout-all", {"204", "401"}),
        ("/api/v1/auth/password", {"204", "401", "403", "422", "429", "503"}),
        ("/api/v1/auth/password-reset", {"202", "422", "429"}),
        ("/api/v1/auth/password-reset/confirm", {"204", "400", "422", "503"}),
        ("/api/v1/auth/verify-email", {"204", "400", "422"}),
        ("/api/v1/auth/login", {"200", "401", "403", "422", "429", "503"}),
    ],
)
def test_account_operations_document_every_status_they_answer(document, path, statuses) -> None:
    # The platform adds what every route may answer (413, 503): a superset.
    assert statuses <= set(document["paths"][path]["post"]["responses"])


def test_the_user_carries_verified_and_disabled(document) -> None:
    user = document["components"]["schemas"]["UserPublic"]
    assert {"email_verified", "disabled"} <= set(user["required"])
    patch = document["paths"]["/api/v1/users/{user_id}"]["patch"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(patch)


def test_every_request_body_has_an_example(document) -> None:
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert schemas[ref.rsplit("/", 1)[1]]["examples"], ref
