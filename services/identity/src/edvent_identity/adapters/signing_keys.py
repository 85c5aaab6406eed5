"""Signing-key material: generate, load, serialise, publish as JWK, sign access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

Algorithm = Literal["EdDSA", "RS256"]
PrivateKey = Ed25519PrivateKey | rsa.RSAPrivateKey
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: Algorithm
    private_key: PrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.private_key, kid=self.kid, algorithm=self.algorithm)

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims,
            self.private_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, "typ": "JWT"},
        )

    def private_pem(self, passphrase: bytes | None) -> str:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _key_members(private_key: PrivateKey) -> dict[str, str]:
    """The required public members of the JWK, the input of its thumbprint."""
    if isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    numbers = private_key.public_key().public_numbers()
    return {"e": _b64_uint(numbers.e), "kty": "RSA", "n": _b64_uint(numbers.n)}


def thumbprint(private_key: PrivateKey) -> str:
    """RFC 7638 JWK thumbprint: the key id, the same wherever the key is loaded."""
    canonical = json.dumps(_key_members(private_key), separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(private_key: PrivateKey, *, kid: str, algorithm: Algorithm) -> dict[str, Any]:
    return {**_key_members(private_key), "kid": kid, "alg": algorithm, "use": "sig"}


def _algorithm_of(private_key: object) -> Algorithm:
    if isinstance(private_key, Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"an RSA signing key needs at least {MIN_RSA_BITS} bits")
        return "RS256"
    raise ValueError("the signing key must be an Ed25519 or RSA private key")


def generate_signing_key(algorithm: Algorithm = "EdDSA") -> SigningKey:
    private_key: PrivateKey = (
        Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else rsa.generate_private_key(public_exponent=65537, key_size=3072)
    )
    return SigningKey(kid=thumbprint(private_key), algorithm=algorithm, private_key=private_key)


def is_encrypted(pem: str) -> bool:
    return "BEGIN ENCRYPTED PRIVATE KEY" in pem


def load_signing_key(pem: str | bytes, *, passphrase: bytes | None = None) -> SigningKey:
    """A signing key from a PEM private key (PKCS#8 or traditional, maybe encrypted)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        private_key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:  # encrypted without a passphrase, or the other way round
        raise ValueError(f"cannot read the signing key: {exc}") from exc
    algorithm = _algorithm_of(private_key)
    assert isinstance(private_key, Ed25519PrivateKey | rsa.RSAPrivateKey)
    return SigningKey(kid=thumbprint(private_key), algorithm=algorithm, private_key=private_key)
