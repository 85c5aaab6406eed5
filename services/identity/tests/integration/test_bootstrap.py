"""`edvent-identity create-admin`: the first ADMIN, idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "correct horse battery staple"
COMMAND = str(Path(sys.executable).parent / "edvent-identity")


def run(identity_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_BOOTSTRAP")
    } | {"IDENTITY_DATABASE_URL": identity_url, **env}
    return subprocess.run(
        [COMMAND, *args], env=environment, capture_output=True, text=True, check=False, timeout=60
    )


async def test_create_admin_from_the_environment_is_idempotent(
    client, identity_url, unique, outbox_rows, sql
) -> None:
    email = f"{unique('boss')}@example.org"
    env = {
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": email.upper(),
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    }
    first = run(identity_url, "create-admin", **env)
    assert first.returncode == 0, first.stderr
    assert "created ADMIN" in first.stdout
    second = run(identity_url, "create-admin", **env)
    assert second.returncode == 0, second.stderr
    assert "already ADMIN" in second.stdout

    [(user_id, role, full_name)] = sql(
        "SELECT id, role, full_name FROM identity.users WHERE email = %s", (email,)
    )
    assert (role, full_name) == ("ADMIN", "Administrator")
    assert outbox_rows(user_id) == ["edvent.identity.user.registered.v1"]
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200


async def test_create_admin_promotes_an_existing_account_once(
    client, accounts, identity_url, outbox_rows, sql
) -> None:
    student = await accounts.register()
    for _ in range(2):
        result = run(identity_url, "create-admin", "--email", student.email)
        assert result.returncode == 0, result.stderr
    assert sql("SELECT role FROM identity.users WHERE id = %s", (student.id,)) == [("ADMIN",)]
    assert outbox_rows(student.id) == [
        "edvent.identity.user.registered.v1",
        "edvent.identity.user.role_changed.v1",
    ]
    # The account keeps its password.
    login = await client.post(
        "/api/v1/auth/login", json={"email": student.email, "password": student.password}
    )
    assert login.status_code == 200


def test_create_admin_explains_what_is_missing(identity_url, unique) -> None:
    no_email = run(identity_url, "create-admin")
    assert no_email.returncode != 0
    assert "IDENTITY_BOOTSTRAP_ADMIN_EMAIL" in no_email.stderr
    no_password = run(identity_url, "create-admin", "--email", f"{unique('x')}@example.org")
    assert no_password.returncode != 0
    assert "password" in no_password.stderr
    weak = run(identity_url, "create-admin", "--email", "a@example.org", "--password", "short")
    assert weak.returncode != 0
    assert "12 to 128" in weak.stderr


def test_rotate_signing_key_prints_the_new_kid(identity_url, sql) -> None:
    result = run(identity_url, "rotate-signing-key")
    assert result.returncode == 0, result.stderr
    kid = result.stdout.split()[3]
    assert sql("SELECT retired_at IS NULL FROM identity.signing_keys WHERE kid = %s", (kid,)) == [
        (True,)
    ]
