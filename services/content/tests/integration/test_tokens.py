"""Tokens are verified through identity's real JWKS endpoint, rotations included.

identity runs as its real app on its own port (see conftest); content fetches the
key set over HTTP like in production, with no test double in between.
"""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


async def test_a_token_from_identity_is_accepted_and_a_forged_one_is_401(
    client, identity, people
) -> None:
    instructor = await identity.instructor(people.admin, "fresh")
    created = await client.post("/api/v1/courses", json={"title": "Mine"}, headers=instructor.auth)
    assert created.status_code == 201, created.text
    assert created.json()["owner_id"] == str(instructor.id)

    header = jwt.get_unverified_header(instructor.access_token)
    claims = jwt.decode(instructor.access_token, options={"verify_signature": False})
    # Same key id and claims, signed by a key identity never published.
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=header)
    refused = await client.post(
        "/api/v1/courses", json={"title": "Forged"}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


async def test_a_key_rotated_in_identity_is_picked_up_without_a_restart(
    client, identity, identity_server, people
) -> None:
    before = await identity.instructor(people.admin, "rotating")
    assert (await client.get("/api/v1/courses?owner=me", headers=before.auth)).status_code == 200
    old_kid = jwt.get_unverified_header(before.access_token)["kid"]

    print(identity_server.command("rotate-signing-key"))
    assert before.email is not None
    after = await identity.login(before.email, "rotating")
    new_kid = jwt.get_unverified_header(after.access_token)["kid"]
    assert new_kid != old_kid

    started = time.monotonic()
    response = await client.post("/api/v1/courses", json={"title": "After"}, headers=after.auth)
    assert response.status_code == 201, response.text
    assert time.monotonic() - started < 5
    # Tokens signed before the rotation stay good until they expire.
    still = await client.get("/api/v1/courses?owner=me", headers=before.auth)
    assert still.status_code == 200
    assert len(still.json()["items"]) == 1


async def test_a_token_for_another_audience_is_401(client, people) -> None:
    assert people.owner.access_token is not None
    claims = jwt.decode(people.owner.access_token, options={"verify_signature": False})
    claims.update(aud="someone-else", jti=str(uuid.uuid4()))
    token = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")
    response = await client.get("/api/v1/courses", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
