"""The token-verification kit: JWKS caching, token checks, FastAPI dependencies.

Keys are generated locally and the JWKS is served by fakes: no network, no identity.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from pydantic_settings import SettingsConfigDict

from edvent_platform.auth import (
    AuthSettings,
    CurrentUser,
    JwksCache,
    KeysUnavailable,
    Principal,
    TokenVerifier,
    current_role,
    install_token_verifier,
    jwks_token_verifier,
    parse_jwks,
    require_role,
)
from edvent_platform.problems import Unauthorized, install_problem_handlers
from edvent_platform.settings import ServiceSettings

ISSUER, AUDIENCE = "edvent-identity", "edvent"


class Signer:
    """A key pair as identity would hold it."""

    def __init__(self, kid: str, *, rsa_key: bool = False) -> None:
        self.kid = kid
        self.private: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if rsa_key
            else Ed25519PrivateKey.generate()
        )
        self.algorithm = "RS256" if rsa_key else "EdDSA"

    @property
    def jwk(self) -> dict[str, Any]:
        to_jwk = RSAAlgorithm.to_jwk if self.algorithm == "RS256" else OKPAlgorithm.to_jwk
        return {
            **to_jwk(self.private.public_key(), as_dict=True),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "sub": str(uuid.uuid4()),
            "role": "STUDENT",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 900,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, **overrides: Any) -> str:
        return jwt.encode(
            self.claims(**overrides),
            self.private,
            algorithm=self.algorithm,
            headers={"kid": self.kid},
        )


class FakeJwks:
    """A JWKS endpoint that counts its callers."""

    def __init__(self, *signers: Signer) -> None:
        self.signers = list(signers)
        self.calls = 0
        self.fail = False

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(0)
        if self.fail:
            raise httpx.ConnectError("identity is down")
        return {"keys": [s.jwk for s in self.signers]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_for(
    jwks: FakeJwks,
    *,
    clock: Callable[[], float] = time.monotonic,
    ttl: float = 300,
    min_refetch: float = 5,
    max_wait: float = 0,
) -> TokenVerifier:
    return TokenVerifier(
        keys=JwksCache(jwks, ttl=ttl, min_refetch=min_refetch, max_wait=max_wait, clock=clock),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=0,
    )


async def rejected(verifier: TokenVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    assert caught.value.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    return caught.value


# --- tokens -------------------------------------------------------------------------


async def test_a_valid_token_gives_its_principal() -> None:
    signer = Signer("k1")
    user_id, jti, iat = uuid.uuid4(), str(uuid.uuid4()), int(time.time()) - 5
    principal = await verifier_for(FakeJwks(signer)).verify(
        signer.token(sub=str(user_id), role="ADMIN", jti=jti, iat=iat)
    )
    assert principal == Principal(
        user_id=user_id, role="ADMIN", token_id=jti, issued_at=datetime.fromtimestamp(iat, UTC)
    )


def test_a_role_change_after_the_token_was_issued_counts_and_an_older_one_does_not() -> None:
    issued = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    token = Principal(user_id=uuid.uuid4(), role="INSTRUCTOR", token_id="t", issued_at=issued)
    later, earlier = issued + timedelta(seconds=3), issued - timedelta(seconds=3)
    assert current_role(token, known_role="STUDENT", changed_at=later) == "STUDENT"
    # The token was issued after the change it knows of (a promotion whose event the
    # service has not seen yet looks the same): the token is the newer word.
    assert current_role(token, known_role="STUDENT", changed_at=earlier) == "INSTRUCTOR"
    assert current_role(token, known_role=None, changed_at=None) == "INSTRUCTOR"
    assert current_role(token, known_role="STUDENT", changed_at=None) == "INSTRUCTOR"


async def test_rs256_tokens_verify_too() -> None:
    signer = Signer("rsa", rsa_key=True)
    assert (await verifier_for(FakeJwks(signer)).verify(signer.token())).role == "STUDENT"


async def test_a_tampered_token_is_rejected() -> None:
    signer = Signer("k1")
    header, payload, signature = signer.token().split(".")
    forged = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"STUDENT", b"ADMIN\x20\x20")
    ).decode()
    await rejected(verifier_for(FakeJwks(signer)), f"{header}.{forged}.{signature}")


async def test_an_expired_token_is_rejected() -> None:
    signer = Signer("k1")
    error = await rejected(verifier_for(FakeJwks(signer)), signer.token(exp=int(time.time()) - 5))
    assert "expired" in error.detail


async def test_a_token_signed_by_another_key_under_a_known_kid_is_rejected() -> None:
    await rejected(verifier_for(FakeJwks(Signer("k1"))), Signer("k1").token())


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-audience"},
        {"iss": "someone-else"},
        {"jti": None},
        {"sub": None},
        {"role": None},
        {"exp": None},
        {"sub": "not-a-uuid"},
        {"sub": 12345},
        {"sub": [str(uuid.uuid4())]},
        {"role": 1},
        {"role": ["ADMIN"]},
        {"jti": 7},
        {"iat": None},
        {"iat": int(time.time()) + 3600},
        {"iat": "yesterday"},
        {"iat": [1]},
        {"exp": "tomorrow"},
        {"exp": [1]},
        {"nbf": int(time.time()) + 3600},
        {"nbf": {"x": 1}},
        {"aud": None},
        {"aud": {"edvent": 1}},
    ],
)
async def test_wrong_or_missing_claims_are_rejected(claims: dict[str, Any]) -> None:
    signer = Signer("k1")
    await rejected(verifier_for(FakeJwks(signer)), signer.token(**claims))


async def test_alg_none_is_rejected() -> None:
    signer = Signer("k1")
    unsigned = jwt.encode(signer.claims(), None, algorithm="none", headers={"kid": "k1"})
    await rejected(verifier_for(FakeJwks(signer)), unsigned)


async def test_hs256_with_the_public_key_as_secret_is_rejected() -> None:
    signer = Signer("rsa", rsa_key=True)
    public_pem = signer.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The classic confusion attack; PyJWT refuses to build it, so sign by hand.
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"rsa"}')
    payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(signer.claims()).encode())
    import hashlib
    import hmac

    mac = hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    token = b".".join([header, payload, jwt.utils.base64url_encode(mac)]).decode()
    await rejected(verifier_for(FakeJwks(signer)), token)


async def test_a_token_whose_alg_does_not_match_its_key_is_rejected() -> None:
    rsa_signer, ed_signer = Signer("rsa", rsa_key=True), Signer("ed")
    # An EdDSA token claiming the RSA key's kid.
    ed_signer.kid = "rsa"
    await rejected(verifier_for(FakeJwks(rsa_signer)), ed_signer.token())


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJhbGciOiJFZERTQSJ9.e30."])
async def test_malformed_tokens_are_rejected(token: str) -> None:
    await rejected(verifier_for(FakeJwks(Signer("k1"))), token)


def _hand_made(header: bytes, payload: bytes = b"{}") -> str:
    """A token with exactly these header and payload bytes and a junk signature."""
    encode = jwt.utils.base64url_encode
    return b".".join([encode(header), encode(payload), encode(b"sig")]).decode()


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":["EdDSA"],"kid":"k1"}',
        b'{"alg":{"EdDSA":1},"kid":"k1"}',
        b'{"alg":"EdDSA","kid":["k1"]}',
        b'{"alg":"EdDSA","kid":"k1","x":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"alg":"EdDSA","kid":"k1","x":' + b"9" * 5000 + b"}",
        b'["EdDSA"]',
        b"\xff\xfe",
    ],
)
async def test_a_hostile_header_is_a_401_not_a_crash(header: bytes) -> None:
    # The header is read before any signature is checked: anyone can send these.
    await rejected(verifier_for(FakeJwks(Signer("k1"))), _hand_made(header))


async def test_a_token_without_kid_is_rejected() -> None:
    signer = Signer("k1")
    token = jwt.encode(signer.claims(), signer.private, algorithm="EdDSA")
    await rejected(verifier_for(FakeJwks(signer)), token)


# --- the key cache ------------------------------------------------------------------


async def test_keys_are_fetched_once_and_reused_within_the_ttl() -> None:
    signer, clock = Signer("k1"), Clock()
    jwks = FakeJwks(signer)
    verifier = verifier_for(jwks, clock=clock, ttl=300)
    for _ in range(5):
        await verifier.verify(signer.token())
    clock.now += 299
    await verifier.verify(signer.token())
    assert jwks.calls == 1
    clock.now += 2
    await verifier.verify(signer.token())
    assert jwks.calls == 2


async def test_an_unknown_kid_refetches_and_finds_a_rotated_key() -> None:
    old, new, clock = Signer("old"), Signer("new"), Clock()
    jwks = FakeJwks(old)
    verifier = verifier_for(jwks, clock=clock, min_refetch=5)
    await verifier.verify(old.token())
    clock.now += 6
    jwks.signers.append(new)
    await verifier.verify(new.token())
    await verifier.verify(old.token())
    assert jwks.calls == 2


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval() -> None:
    signer, clock = Signer("k1"), Clock()
    jwks = FakeJwks(signer)
    verifier = verifier_for(jwks, clock=clock, min_refetch=5)
    await verifier.verify(signer.token())
    clock.now += 10
    for i in range(50):
        await rejected(verifier, Signer(f"bogus-{i}").token())
    assert jwks.calls == 2
    clock.now += 5
    await rejected(verifier, Signer("bogus-again").token())
    assert jwks.calls == 3


async def test_a_key_rotated_in_right_after_a_fetch_is_waited_for_not_rejected() -> None:
    old, new = Signer("old"), Signer("new")
    jwks = FakeJwks(old)
    verifier = verifier_for(jwks, min_refetch=0.2, max_wait=0.2)
    await verifier.verify(old.token())
    jwks.signers.append(new)
    started = time.monotonic()
    await verifier.verify(new.token())
    assert jwks.calls == 2
    assert 0.1 < time.monotonic() - started < 2


async def test_concurrent_requests_share_one_fetch() -> None:
    signer = Signer("k1")
    jwks = FakeJwks(signer)
    verifier = verifier_for(jwks)
    await asyncio.gather(*(verifier.verify(signer.token()) for _ in range(20)))
    assert jwks.calls == 1


async def test_stale_keys_are_kept_while_identity_is_unreachable() -> None:
    signer, clock = Signer("k1"), Clock()
    jwks = FakeJwks(signer)
    verifier = verifier_for(jwks, clock=clock, ttl=60)
    await verifier.verify(signer.token())
    jwks.fail = True
    clock.now += 61
    await verifier.verify(signer.token())
    assert jwks.calls == 2


async def test_without_any_keys_the_answer_is_503_not_401() -> None:
    jwks = FakeJwks(Signer("k1"))
    jwks.fail = True
    with pytest.raises(KeysUnavailable) as caught:
        await verifier_for(jwks).verify(jwks.signers[0].token())
    assert caught.value.status == 503
    assert "Retry-After" in caught.value.headers


def test_only_signature_keys_of_allowed_algorithms_are_used() -> None:
    ed = Signer("ed").jwk
    keys = parse_jwks(
        {
            "keys": [
                ed,
                {**Signer("enc").jwk, "use": "enc"},
                {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"},
                {"kty": "OKP", "crv": "Ed25519", "kid": "broken", "x": "!!"},
                {"kty": "OKP", "crv": "Ed25519", "x": ed["x"]},  # no kid
                "nonsense",
            ]
        }
    )
    assert list(keys) == ["ed"]


async def test_the_http_fetch_reads_the_jwks_url() -> None:
    signer = Signer("k1")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"keys": [signer.jwk]})

    settings = AuthSettings(jwks_url="http://identity.test/api/v1/auth/jwks")
    verifier = jwks_token_verifier(
        settings, client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    try:
        assert (await verifier.verify(signer.token())).role == "STUDENT"
    finally:
        await verifier.aclose()
    assert seen == ["http://identity.test/api/v1/auth/jwks"]


def test_auth_settings_mix_into_a_service_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class Settings(ServiceSettings, AuthSettings):
        model_config = SettingsConfigDict(env_prefix="THING_")

    monkeypatch.setenv("THING_JWKS_URL", "http://identity:8000/api/v1/auth/jwks")
    monkeypatch.setenv("THING_JWT_AUDIENCE", "edvent-test")
    settings = Settings()
    assert settings.jwks_url == "http://identity:8000/api/v1/auth/jwks"
    assert settings.jwt_audience == "edvent-test"
    assert settings.jwt_issuer == ISSUER


# --- FastAPI dependencies -------------------------------------------------------------


@pytest.fixture
def signer() -> Signer:
    return Signer("k1")


@pytest.fixture
async def client(signer: Signer) -> Any:
    app = FastAPI()
    install_problem_handlers(app)
    install_token_verifier(app, verifier_for(FakeJwks(signer)))

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": str(user.user_id), "role": user.role}

    @app.get("/admin", dependencies=[Depends(require_role("ADMIN"))])
    async def admin_only() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/staff")
    async def staff(
        user: Annotated[Principal, Depends(require_role("INSTRUCTOR", "ADMIN"))],
    ) -> dict[str, str]:
        return {"role": user.role}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://service"
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_missing_token_is_a_401_problem_with_a_bearer_challenge(client: Any) -> None:
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


async def test_another_auth_scheme_counts_as_missing(client: Any) -> None:
    response = await client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


async def test_an_invalid_token_is_a_401_with_invalid_token(client: Any) -> None:
    response = await client.get("/me", headers=bearer("nope"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_current_user_reads_the_token(client: Any, signer: Signer) -> None:
    user_id = str(uuid.uuid4())
    response = await client.get("/me", headers=bearer(signer.token(sub=user_id)))
    assert response.json() == {"user_id": user_id, "role": "STUDENT"}


async def test_require_role_lets_the_role_through(client: Any, signer: Signer) -> None:
    assert (await client.get("/admin", headers=bearer(signer.token(role="ADMIN")))).json() == {
        "ok": "yes"
    }
    staff = await client.get("/staff", headers=bearer(signer.token(role="INSTRUCTOR")))
    assert staff.json() == {"role": "INSTRUCTOR"}


async def test_require_role_forbids_other_roles(client: Any, signer: Signer) -> None:
    response = await client.get("/admin", headers=bearer(signer.token(role="STUDENT")))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_require_role_still_needs_a_token(client: Any) -> None:
    assert (await client.get("/admin")).status_code == 401


def test_require_role_needs_roles() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_role()


# --- remembered tokens ------------------------------------------------------------------


async def test_a_verified_token_is_remembered_and_its_next_use_skips_the_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = Signer("k1")
    verifier = verifier_for(FakeJwks(signer))
    token = signer.token()
    first = await verifier.verify(token)
    decodes = 0
    real_decode = jwt.decode

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal decodes
        decodes += 1
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    assert await verifier.verify(token) == first
    assert decodes == 0
    # Another token, even of the same user, is verified in full.
    await verifier.verify(signer.token(sub=str(first.user_id)))
    assert decodes == 1


async def test_a_remembered_token_expires_on_time() -> None:
    signer = Signer("k1")
    clock = Clock()
    clock.now = time.time()
    verifier = TokenVerifier(
        keys=JwksCache(FakeJwks(signer), ttl=300, min_refetch=5),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=0,
        clock=clock,
    )
    token = signer.token(exp=int(clock.now) + 60)
    await verifier.verify(token)
    clock.now += 61
    error = await rejected(verifier, token)
    assert "expired" in error.detail


async def test_a_remembered_token_is_rejected_once_its_key_is_withdrawn() -> None:
    """A key identity stops publishing (rotated out after a compromise, say) rejects
    the tokens it signed at the next JWKS fetch, remembered or not."""
    old, new = Signer("k1"), Signer("k2")
    jwks = FakeJwks(old)
    clock = Clock()
    verifier = verifier_for(jwks, clock=clock, ttl=60, min_refetch=0)
    token = old.token()
    await verifier.verify(token)
    jwks.signers = [new]
    clock.now += 61  # the JWKS cache's TTL: the next use fetches the keys again
    error = await rejected(verifier, token)
    assert "unknown key" in error.detail


async def test_the_memory_of_tokens_is_bounded() -> None:
    signer = Signer("k1")
    verifier = TokenVerifier(
        keys=JwksCache(FakeJwks(signer), ttl=300, min_refetch=5),
        issuer=ISSUER,
        audience=AUDIENCE,
        memo_size=3,
    )
    for _ in range(10):
        await verifier.verify(signer.token())
    assert len(verifier._memo) == 3
