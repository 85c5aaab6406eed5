"""Tokens identity signs, checked by the verifier every service uses."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edvent_identity.adapters.signing_keys import (
    SigningKey,
    generate_signing_key,
    load_signing_key,
    thumbprint,
)
from edvent_identity.domain.tokens import access_token_claims
from edvent_platform.auth import JwksCache, Principal, TokenVerifier
from edvent_platform.problems import Unauthorized

ISSUER, AUDIENCE = "edvent-identity", "edvent"


def claims(**overrides: Any) -> dict[str, Any]:
    values = access_token_claims(
        user_id=uuid.UUID(int=7),
        role="STUDENT",
        issuer=ISSUER,
        audience=AUDIENCE,
        issued_at=datetime.now(UTC),
        lifetime=timedelta(minutes=15),
        token_id="jti-1",
    )
    values.update(overrides)
    return values


def verifier(*keys: SigningKey) -> TokenVerifier:
    async def fetch() -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in keys]}

    return TokenVerifier(
        keys=JwksCache(fetch, ttl=60, min_refetch=0),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=0,
    )


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key("EdDSA")


async def assert_rejected(key: SigningKey, token: str) -> None:
    with pytest.raises(Unauthorized):
        await verifier(key).verify(token)


async def test_a_token_identity_signs_verifies(key: SigningKey) -> None:
    token = claims()
    assert await verifier(key).verify(key.sign(token)) == Principal(
        user_id=uuid.UUID(int=7),
        role="STUDENT",
        token_id="jti-1",
        issued_at=datetime.fromtimestamp(token["iat"], UTC),
    )


def test_the_header_names_the_algorithm_and_key(key: SigningKey) -> None:
    assert jwt.get_unverified_header(key.sign(claims())) == {
        "alg": "EdDSA",
        "kid": key.kid,
        "typ": "JWT",
    }


async def test_a_tampered_token_is_rejected(key: SigningKey) -> None:
    header, _, signature = key.sign(claims()).split(".")
    payload = jwt.utils.base64url_encode(json.dumps(claims(role="ADMIN")).encode()).decode()
    await assert_rejected(key, f"{header}.{payload}.{signature}")


async def test_an_expired_token_is_rejected(key: SigningKey) -> None:
    past = int(time.time()) - 3600
    await assert_rejected(key, key.sign(claims(iat=past, exp=past + 900)))


async def test_a_token_signed_by_another_key_is_rejected(key: SigningKey) -> None:
    other = generate_signing_key("EdDSA")
    await assert_rejected(key, other.sign(claims()))
    # ...even when it pretends to be signed by the published key.
    impostor = SigningKey(kid=key.kid, algorithm="EdDSA", private_key=other.private_key)
    await assert_rejected(key, impostor.sign(claims()))


async def test_alg_none_is_rejected(key: SigningKey) -> None:
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": key.kid})
    await assert_rejected(key, token)


async def test_a_token_for_another_audience_is_rejected(key: SigningKey) -> None:
    await assert_rejected(key, key.sign(claims(aud="another-service")))


async def test_a_token_from_another_issuer_is_rejected(key: SigningKey) -> None:
    await assert_rejected(key, key.sign(claims(iss="https://evil.example")))


async def test_hs256_with_the_public_key_as_the_secret_is_rejected() -> None:
    rsa_key = load_signing_key(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = jwt.utils.base64url_encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid}).encode()
    )
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    await assert_rejected(
        rsa_key, b".".join([header, payload, jwt.utils.base64url_encode(mac)]).decode()
    )


async def test_rs256_keys_sign_tokens_that_verify() -> None:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key = load_signing_key(pem)
    assert key.algorithm == "RS256"
    assert (await verifier(key).verify(key.sign(claims()))).token_id == "jti-1"


def test_the_kid_is_the_rfc7638_thumbprint_and_survives_a_reload() -> None:
    key = generate_signing_key("EdDSA")
    jwk = key.public_jwk
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"))
    expected = jwt.utils.base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
    assert key.kid == expected == thumbprint(key.private_key)
    assert load_signing_key(key.private_pem(None)).kid == key.kid


def test_stored_keys_can_be_encrypted_with_a_passphrase() -> None:
    key = generate_signing_key("EdDSA")
    pem = key.private_pem(b"s3cret passphrase")
    assert "ENCRYPTED" in pem
    assert load_signing_key(pem, passphrase=b"s3cret passphrase").kid == key.kid
    with pytest.raises(ValueError, match="password"):
        load_signing_key(pem, passphrase=b"wrong")
    with pytest.raises(ValueError, match="encrypted"):
        load_signing_key(pem)


def test_weak_or_unsupported_keys_are_refused() -> None:
    small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    p256 = ec.generate_private_key(ec.SECP256R1())
    for private in (small_rsa, p256):
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(ValueError, match="signing key"):
            load_signing_key(pem)


def test_the_public_jwk_has_no_private_parts() -> None:
    for algorithm in ("EdDSA", "RS256"):
        jwk = generate_signing_key(algorithm).public_jwk  # type: ignore[arg-type]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
        assert jwk["use"] == "sig"
        assert jwk["alg"] == algorithm
