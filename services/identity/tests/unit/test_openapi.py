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
        "changeRole", "eraseMe", "eraseUser", "getMe", "getUser", "jwks", "listUsers", "login",
        "logout", "refresh", "register",
    ]  # fmt: skip


def test_every_request_body_has_an_example(document) -> None:
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert schemas[ref.rsplit("/", 1)[1]]["examples"], ref
