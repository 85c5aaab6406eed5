"""The periodic clean-up forgets only what no rule needs any more."""

from __future__ import annotations

from edvent_identity.adapters.signing_keys import generate_signing_key


async def test_prune_forgets_old_failures_tokens_and_retired_private_keys(
    identity, accounts, client, sql
) -> None:
    account = await accounts.register()
    await client.post("/api/v1/auth/login", json={"email": account.email, "password": "nope"})
    sql(
        "INSERT INTO identity.login_failures (scope, subject, failed_at)"
        " VALUES ('email', 'old@example.org', now() - interval '1 day')"
    )
    sql(
        "UPDATE identity.refresh_tokens SET expires_at = now() - interval '30 days'"
        " WHERE token_hash = (SELECT token_hash FROM identity.refresh_tokens"
        " WHERE user_id = %s ORDER BY issued_at LIMIT 1)",
        (account.id,),
    )
    old_key = generate_signing_key()
    sql(
        "INSERT INTO identity.signing_keys (kid, algorithm, private_key_pem, public_jwk,"
        " created_at, retired_at) VALUES (%s, 'EdDSA', %s, %s, now() - interval '2 days',"
        " now() - interval '1 day')",
        (old_key.kid, old_key.private_pem(None), '{"kid": "x"}'),
    )

    await identity.prune()

    kept = sql("SELECT scope, subject FROM identity.login_failures ORDER BY id")
    assert kept == [
        ("register", "127.0.0.1"),
        ("email", account.email),
        ("account_client", f"{account.email} 127.0.0.1"),
        ("client", "127.0.0.1"),
    ]
    assert sql(
        "SELECT count(*) FROM identity.refresh_tokens WHERE user_id = %s", (account.id,)
    ) == [(0,)]
    assert sql(
        "SELECT private_key_pem IS NULL FROM identity.signing_keys WHERE kid = %s",
        (old_key.kid,),
    ) == [(True,)]
    published = (await client.get("/api/v1/auth/jwks")).json()["keys"]
    assert old_key.kid not in {key["kid"] for key in published}
