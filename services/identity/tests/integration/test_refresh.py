"""POST /api/v1/auth/refresh and /logout: rotation, reuse detection, revocation."""

from __future__ import annotations

import asyncio

import jwt


async def refresh(client, token):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refreshing_returns_a_new_pair_and_the_old_token_stops_working(
    client, accounts
) -> None:
    account = await accounts.register()
    response = await refresh(client, account.refresh_token)
    assert response.status_code == 200
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != account.refresh_token
    assert response.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.json()["id"] == str(account.id)
    assert (await refresh(client, pair["refresh_token"])).status_code == 200


async def test_presenting_a_rotated_token_revokes_its_whole_family(client, accounts, sql) -> None:
    account = await accounts.register()
    second = (await refresh(client, account.refresh_token)).json()["refresh_token"]
    third = (await refresh(client, second)).json()["refresh_token"]

    reused = await refresh(client, account.refresh_token)
    assert reused.status_code == 401
    assert reused.headers["content-type"] == "application/problem+json"
    # The thief's or the victim's latest token: either way, that sign-in is over.
    assert (await refresh(client, third)).status_code == 401
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s AND revoked_at IS NULL",
        (account.id,),
    ) == [(0,)]


async def test_reuse_revokes_only_that_family(client, accounts) -> None:
    account = await accounts.register()
    other_session = await accounts.login(email=account.email)
    await refresh(client, account.refresh_token)
    assert (await refresh(client, account.refresh_token)).status_code == 401
    assert (await refresh(client, other_session.refresh_token)).status_code == 200


async def test_of_two_concurrent_refreshes_of_one_token_exactly_one_wins(
    client, accounts, sql
) -> None:
    account = await accounts.register()
    first, second = await asyncio.gather(
        refresh(client, account.refresh_token), refresh(client, account.refresh_token)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    # Exactly one successor was issued; the loser counts as a reuse, so it is revoked too.
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s", (account.id,)
    ) == [(2,)]
    winner = first if first.status_code == 200 else second
    assert (await refresh(client, winner.json()["refresh_token"])).status_code == 401


async def test_unknown_and_expired_refresh_tokens_are_401(client, accounts, sql) -> None:
    assert (await refresh(client, "not-a-token-we-issued")).status_code == 401
    account = await accounts.register()
    sql(
        "UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 second'"
        " WHERE user_id = %s",
        (account.id,),
    )
    assert (await refresh(client, account.refresh_token)).status_code == 401


async def test_invalid_refresh_bodies_are_422(client) -> None:
    for payload in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 1000}):
        assert (await client.post("/api/v1/auth/refresh", json=payload)).status_code == 422
        assert (await client.post("/api/v1/auth/logout", json=payload)).status_code == 422


async def test_logging_out_revokes_the_refresh_token_and_its_family(client, accounts) -> None:
    account = await accounts.register()
    rotated = (await refresh(client, account.refresh_token)).json()["refresh_token"]
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": rotated})
    assert response.status_code == 204
    assert response.content == b""
    assert (await refresh(client, rotated)).status_code == 401


async def test_logging_out_twice_or_with_an_unknown_token_is_still_204(client, accounts) -> None:
    account = await accounts.register()
    for token in (account.refresh_token, account.refresh_token, "never-issued"):
        response = await client.post("/api/v1/auth/logout", json={"refresh_token": token})
        assert response.status_code == 204


async def test_logging_out_ends_only_that_sign_in(client, accounts) -> None:
    account = await accounts.register()
    phone = await accounts.login(email=account.email)
    await client.post("/api/v1/auth/logout", json={"refresh_token": account.refresh_token})
    assert (await refresh(client, phone.refresh_token)).status_code == 200


async def test_a_refreshed_access_token_carries_the_current_role(client, accounts) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    patched = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert patched.status_code == 200
    pair = (await refresh(client, student.refresh_token)).json()
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["role"] == "INSTRUCTOR"
