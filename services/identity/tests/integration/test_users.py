"""GET /api/v1/users/me, GET /api/v1/users, GET and PATCH /api/v1/users/{id}."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from edvent_identity.db import users as users_db
from edvent_identity.domain.tokens import access_token_claims


async def test_me_returns_the_signed_in_user(client, accounts) -> None:
    account = await accounts.register()
    response = await client.get("/api/v1/users/me", headers=account.auth)
    assert response.status_code == 200
    assert response.json() | {"created_at": None} == {
        "id": str(account.id),
        "email": account.email,
        "full_name": "Test User",
        "role": "STUDENT",
        "created_at": None,
        "email_verified": False,
        "disabled": False,
    }


async def test_me_without_a_token_is_401_with_a_bearer_challenge(client) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def signed(identity, *, user_id: uuid.UUID, issued_at: datetime, role: str = "STUDENT"):
    """An access token as identity would issue it, but with the time or user we choose."""
    key = await identity.keys.signing_key()
    return key.sign(
        access_token_claims(
            user_id=user_id,
            role=role,
            issuer=identity.policy.issuer,
            audience=identity.policy.audience,
            issued_at=issued_at,
            lifetime=identity.policy.access_lifetime,
            token_id=str(uuid.uuid4()),
        )
    )


async def test_me_with_a_bad_or_expired_token_is_401(client, identity, accounts) -> None:
    account = await accounts.register()
    expired = await signed(
        identity, user_id=account.id, issued_at=datetime.now(UTC) - timedelta(hours=1)
    )
    for token in ("garbage", account.access_token[:-4] + "AAAA", expired):
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_token_for_an_account_that_does_not_exist_is_401(client, identity) -> None:
    token = await signed(identity, user_id=uuid.uuid4(), issued_at=datetime.now(UTC), role="ADMIN")
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_admins_page_through_all_users_newest_first(client, accounts) -> None:
    admin = await accounts.admin()
    students = [await accounts.register() for _ in range(4)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/users", params=params, headers=admin.auth)
        assert response.status_code == 200
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 2
        seen += [user["id"] for user in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [str(a.id) for a in [*reversed(students), admin]]
    assert seen == expected
    assert pages == 3


async def test_the_list_defaults_to_20_and_says_when_it_ends(client, accounts) -> None:
    admin = await accounts.admin()
    response = await client.get("/api/v1/users", headers=admin.auth)
    assert response.json()["next_cursor"] is None
    assert [u["id"] for u in response.json()["items"]] == [str(admin.id)]


async def test_list_parameters_out_of_range_are_422(client, accounts) -> None:
    admin = await accounts.admin()
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "garbage!"}):
        response = await client.get("/api/v1/users", params=params, headers=admin.auth)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["loc"][0] == "query"


async def test_only_admins_list_users(client, accounts) -> None:
    student = await accounts.register()
    assert (await client.get("/api/v1/users")).status_code == 401
    forbidden = await client.get("/api/v1/users", headers=student.auth)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"


async def test_admins_read_one_user(client, accounts) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    response = await client.get(f"/api/v1/users/{student.id}", headers=admin.auth)
    assert response.status_code == 200
    assert response.json()["email"] == student.email
    assert (
        await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.auth)
    ).status_code == 404
    assert (await client.get("/api/v1/users/not-a-uuid", headers=admin.auth)).status_code == 422
    assert (await client.get(f"/api/v1/users/{admin.id}", headers=student.auth)).status_code == 403


async def test_an_admin_changes_a_role(client, accounts, outbox_rows) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    response = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
    )
    assert response.status_code == 200
    assert response.json()["role"] == "INSTRUCTOR"
    assert response.json()["id"] == str(student.id)
    assert outbox_rows(student.id) == [
        "edvent.identity.user.registered.v1",
        "edvent.identity.user.role_changed.v1",
    ]


async def test_setting_the_same_role_changes_nothing_and_publishes_nothing(
    client, accounts, outbox_rows
) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    response = await client.patch(
        f"/api/v1/users/{student.id}", json={"role": "STUDENT"}, headers=admin.auth
    )
    assert response.status_code == 200
    assert outbox_rows(student.id) == ["edvent.identity.user.registered.v1"]


async def test_role_changes_need_an_admin(client, accounts) -> None:
    student = await accounts.register()
    other = await accounts.register()
    url = f"/api/v1/users/{other.id}"
    assert (await client.patch(url, json={"role": "ADMIN"})).status_code == 401
    assert (
        await client.patch(url, json={"role": "ADMIN"}, headers=student.auth)
    ).status_code == 403


async def test_invalid_role_changes_are_422_and_unknown_users_404(client, accounts) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    url = f"/api/v1/users/{student.id}"
    for payload in ({"role": "SUPERUSER"}, {"role": "admin"}, {}, {"role": "ADMIN", "email": "x"}):
        response = await client.patch(url, json=payload, headers=admin.auth)
        assert response.status_code == 422, payload
    missing = await client.patch(
        f"/api/v1/users/{uuid.uuid4()}", json={"role": "ADMIN"}, headers=admin.auth
    )
    assert missing.status_code == 404


async def test_the_last_admin_cannot_demote_themselves(client, accounts) -> None:
    admin = await accounts.admin()
    response = await client.patch(
        f"/api/v1/users/{admin.id}", json={"role": "STUDENT"}, headers=admin.auth
    )
    assert response.status_code == 409
    assert "only ADMIN" in response.json()["detail"]


async def test_with_two_admins_one_may_step_down(client, accounts) -> None:
    first = await accounts.admin()
    second = await accounts.admin()
    response = await client.patch(
        f"/api/v1/users/{first.id}", json={"role": "INSTRUCTOR"}, headers=first.auth
    )
    assert response.status_code == 200
    # Now `second` is the last one.
    response = await client.patch(
        f"/api/v1/users/{second.id}", json={"role": "STUDENT"}, headers=second.auth
    )
    assert response.status_code == 409


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, accounts, sql):
    first = await accounts.admin()
    second = await accounts.admin()
    responses = await asyncio.gather(
        client.patch(f"/api/v1/users/{second.id}", json={"role": "STUDENT"}, headers=first.auth),
        client.patch(f"/api/v1/users/{first.id}", json={"role": "STUDENT"}, headers=second.auth),
    )
    # The loser is refused either as the last admin (409) or, if the winner committed
    # before its request was authorised, as no longer an admin (403).
    winner, loser = sorted(r.status_code for r in responses)
    assert winner == 200
    assert loser in (403, 409)
    assert sql("SELECT count(*) FROM identity.users WHERE role = 'ADMIN'") == [(1,)]


async def test_a_demoted_admin_cannot_use_their_old_token_here(client, accounts) -> None:
    first = await accounts.admin()
    second = await accounts.admin()
    demoted = await client.patch(
        f"/api/v1/users/{first.id}", json={"role": "STUDENT"}, headers=second.auth
    )
    assert demoted.status_code == 200
    # `first` still holds an access token that says ADMIN.
    comeback = await client.patch(
        f"/api/v1/users/{first.id}", json={"role": "ADMIN"}, headers=first.auth
    )
    assert comeback.status_code == 403
    assert (await client.get("/api/v1/users", headers=first.auth)).status_code == 403


def _cursor(data: object) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor({"t": "2026-01-01T00:00:00+00:00", "id": 123}),
        _cursor({"t": "2026-01-01T00:00:00+00:00", "id": ["x"]}),
        _cursor({"t": "0001-01-01T00:00:00+14:00", "id": str(uuid.UUID(int=0))}),
        _cursor({"t": "9999-12-31T23:59:59-14:00", "id": str(uuid.UUID(int=0))}),
        _cursor({"t": 20260101, "id": str(uuid.UUID(int=0))}),
        _cursor(["2026-01-01T00:00:00+00:00"]),
        _cursor("just a string"),
        _cursor(None),
        "ÿÿÿÿ",
        "%00",
    ],
)
async def test_tampered_cursors_are_422_not_500(client, accounts, cursor) -> None:
    admin = await accounts.admin()
    response = await client.get("/api/v1/users", params={"cursor": cursor}, headers=admin.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_non_uuid_user_id_is_422(client, accounts) -> None:
    admin = await accounts.admin()
    for user_id in ("42", "not-a-uuid", "%00"):
        for response in (
            await client.get(f"/api/v1/users/{user_id}", headers=admin.auth),
            await client.patch(
                f"/api/v1/users/{user_id}", json={"role": "ADMIN"}, headers=admin.auth
            ),
        ):
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"


async def test_users_me_takes_only_get_and_delete_and_says_so(client, accounts) -> None:
    # /users/me is its own resource, not a user id: a PATCH is an undeclared method.
    admin = await accounts.admin()
    for method in ("PATCH", "TRACE"):
        response = await client.request(method, "/api/v1/users/me", headers=admin.auth)
        assert response.status_code == 405, response.text
        assert sorted(response.headers["allow"].split(", ")) == ["DELETE", "GET"]
        assert response.headers["content-type"] == "application/problem+json"


async def test_an_admin_demoted_while_their_request_waits_cannot_change_roles(
    client, accounts, sql, monkeypatch
) -> None:
    admin = await accounts.admin()
    soon_demoted = await accounts.admin()
    student = await accounts.register()
    # Hold `soon_demoted`'s PATCH after it was authorised, before it changes anything.
    reached, go = asyncio.Event(), asyncio.Event()
    lock_admins = users_db.lock_admins

    async def paused_lock_admins(session):
        if not reached.is_set():
            reached.set()
            await go.wait()
        return await lock_admins(session)

    monkeypatch.setattr(users_db, "lock_admins", paused_lock_admins)
    promoting = asyncio.create_task(
        client.patch(
            f"/api/v1/users/{student.id}", json={"role": "ADMIN"}, headers=soon_demoted.auth
        )
    )
    await reached.wait()
    demoted = await client.patch(
        f"/api/v1/users/{soon_demoted.id}", json={"role": "STUDENT"}, headers=admin.auth
    )
    assert demoted.status_code == 200
    go.set()
    promoted = await promoting
    assert promoted.status_code == 403, promoted.text
    assert promoted.headers["content-type"] == "application/problem+json"
    assert sql("SELECT role::text FROM identity.users WHERE id = %s", (student.id,)) == [
        ("STUDENT",)
    ]
