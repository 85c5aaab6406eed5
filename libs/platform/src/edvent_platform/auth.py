"""Access-token verification for every service: JWTs checked against identity's JWKS.

identity signs short-lived access tokens with an asymmetric key (EdDSA or RS256) and
publishes the public keys at `GET /api/v1/auth/jwks`. A service verifies tokens
itself: signature, `exp`, `iss`, `aud`, with the key set fetched over HTTP and cached.
The cache is refreshed when it is older than its TTL and when a token names a key id
it does not know (identity rotated its key), but never more often than a minimum
interval, so a flood of tokens with made-up key ids cannot hammer identity.

Wiring in a service (its Settings mixes in `AuthSettings`):

    verifier = jwks_token_verifier(settings)
    app = create_service_app(..., on_shutdown=[lambda _app: verifier.aclose()])
    install_token_verifier(app, verifier)

    @router.get("/things")
    async def things(user: CurrentUser) -> ...: ...

    @router.post("/things", dependencies=[Depends(require_role("INSTRUCTOR", "ADMIN"))])

identity itself builds a `TokenVerifier` over its own key set (`JwksCache` with a
fetch function that reads its database), so it never calls itself over HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import httpx
import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edvent_platform.problems import Forbidden, Problem, Unauthorized

logger = logging.getLogger("edvent.auth")

# Asymmetric algorithms only: a verifier holds public keys, so an HMAC algorithm would
# let anyone who read the JWKS forge tokens, and `none` would skip the signature.
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "RS256"})
REQUIRED_CLAIMS = ("sub", "role", "iss", "aud", "iat", "exp", "jti")

JwksFetch = Callable[[], Awaitable[Mapping[str, Any]]]


class JwtSettings(BaseSettings):
    """What issuer and verifiers must agree on; the defaults are the same everywhere."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jwt_issuer: str = "edvent-identity"
    jwt_audience: str = "edvent"
    # Clock skew tolerated between identity and the verifying service.
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)


class AuthSettings(JwtSettings):
    """Mix into a service's Settings: `class Settings(ServiceSettings, AuthSettings)`."""

    jwks_url: str = "http://127.0.0.1:8001/api/v1/auth/jwks"
    jwks_cache_seconds: float = Field(default=300, gt=0)
    # The least time between two fetches, whatever asks for them (expiry, unknown key id).
    jwks_min_refetch_seconds: float = Field(default=2, ge=0)
    jwks_timeout_seconds: float = Field(default=5, gt=0)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made the request, as the access token says."""

    user_id: UUID
    role: str
    token_id: str
    issued_at: datetime  # the token's `iat`


def current_role(
    principal: Principal, *, known_role: str | None, changed_at: datetime | None
) -> str:
    """The role that counts for a request: the token's, unless the service has since
    heard (from identity's `user.role_changed` event) of a change made after the token
    was issued. So a demoted user loses rights once the event arrives, not only when
    their token expires, and a freshly promoted user's new token works at once, before
    the event does. `iat` has whole seconds: a change within the token's own second
    counts as newer, which at worst asks for the role the event carries anyway.
    """
    if known_role is None or changed_at is None or changed_at < principal.issued_at:
        return principal.role
    return known_role


def session_ended(principal: Principal, *, not_before: datetime | None, deleted: bool) -> None:
    """Refuse a valid token whose session identity has ended since it was issued.

    identity publishes `user.sessions_revoked` (password change or reset, sign out
    everywhere, disable) with a `not_before`, and `user.deleted` on erasure; every
    service keeps both in its users reference table. identity issues `iat` with
    sub-second precision, so a token signed just after the cut-off still works.
    """
    if deleted:
        raise _invalid_token("This account no longer exists.")
    if not_before is not None and principal.issued_at < not_before:
        raise _invalid_token("This session has ended; sign in again.")


class KeysUnavailable(Problem):
    """No key set could be fetched yet: the caller is not at fault, so not a 401."""

    status, title = 503, "Service Unavailable"


def _invalid_token(detail: str) -> Unauthorized:
    return Unauthorized(
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
    )


def parse_jwks(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS by key id; anything else in it is ignored."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS must have a 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            logger.warning("ignoring an unusable JWKS key", extra={"kid": entry["kid"]})
            continue
        if key.algorithm_name in ALLOWED_ALGORITHMS:
            keys[entry["kid"]] = key
    return keys


class JwksCache:
    """Key set by key id, refetched on expiry or unknown key id, at a bounded rate.

    A token naming an unknown key id waits (at most `max_wait`) for the next fetch
    the rate allows, so a key rotated in just after a fetch costs a short delay, not
    a 401; a flood of made-up key ids still causes one fetch per `min_refetch`.
    """

    def __init__(
        self,
        fetch: JwksFetch,
        *,
        ttl: float,
        min_refetch: float,
        max_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refetch = min_refetch
        # How long a token with an unknown key id may wait for the next allowed fetch.
        self._max_wait = min_refetch if max_wait is None else max_wait
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        await self._refresh_if(self._expired)
        if kid not in self._keys:
            # Just after a rotation the first token with the new key may come right
            # after a fetch: wait for the next allowed one instead of rejecting it.
            await self._wait_until_fetch_allowed()
            await self._refresh_if(lambda _now: kid not in self._keys)
        if self._fetched_at is None:
            raise KeysUnavailable(
                "The token signing keys cannot be fetched yet; try again shortly.",
                headers={"Retry-After": str(max(1, round(self._min_refetch)))},
            )
        return self._keys.get(kid)

    async def _wait_until_fetch_allowed(self) -> None:
        if self._attempted_at is None:
            return
        remaining = self._min_refetch - (self._clock() - self._attempted_at)
        if 0 < remaining <= self._max_wait:
            await asyncio.sleep(remaining)

    def _expired(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._ttl

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._min_refetch

    async def _refresh_if(self, needed: Callable[[float], bool]) -> None:
        now = self._clock()
        # Also wait for a fetch in flight: its result may be what this caller needs.
        if not (needed(now) and (self._may_fetch(now) or self._lock.locked())):
            return
        # One fetch at a time; whoever waited re-checks, the key may be there now.
        async with self._lock:
            now = self._clock()
            if not (needed(now) and self._may_fetch(now)):
                return
            self._attempted_at = now
            try:
                keys = parse_jwks(await self._fetch())
            except Exception as exc:  # noqa: BLE001 - keep serving the keys we have
                logger.warning("fetching the JWKS failed: %s: %s", type(exc).__name__, exc)
                return
            self._keys = keys
            self._fetched_at = now


class HttpJwksFetch:
    """GET the JWKS from identity."""

    def __init__(self, url: str, *, timeout: float, client: httpx.AsyncClient | None = None):
        self.url = url
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def __call__(self) -> Mapping[str, Any]:
        response = await self._client.get(self.url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        return document

    async def aclose(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    key: jwt.PyJWK  # the key object that verified it, as the cache held it then
    kid: str
    expires_at: float


class TokenVerifier:
    """Checks access tokens against identity's keys.

    A token that passed every check is remembered (up to `memo_size`, least recently
    used first out), so its next request skips the signature and claims work: in the
    signed-in benchmarks that was a tenth of a service's event loop, once per request
    with the same token (bench/HISTORY.md). Only the exact string that was verified is
    remembered; each use re-checks what can change since: its expiry, and that its
    key is still the one identity publishes under its `kid` (a key withdrawn from the
    JWKS rejects it at once). Sessions, roles and erasure are the service's checks
    after this one, on every request, as before.
    """

    def __init__(
        self,
        *,
        keys: JwksCache,
        issuer: str,
        audience: str,
        leeway: int = 30,
        on_close: Callable[[], Awaitable[None]] | None = None,
        memo_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._on_close = on_close
        self._memo: OrderedDict[str, _Verified] = OrderedDict()
        self._memo_size = memo_size
        self._clock = clock

    async def verify(self, token: str) -> Principal:
        """The principal of a valid access token; `Unauthorized` for anything else."""
        known = self._memo.get(token)
        if known is not None:
            if self._clock() >= known.expires_at + self.leeway:
                self._memo.pop(token, None)
                raise _invalid_token("The access token has expired.")
            # (Other requests run during the await: the entry may be gone after it.)
            if await self.keys.get(known.kid) is known.key:
                if token in self._memo:
                    self._memo.move_to_end(token)
                return known.principal
            self._memo.pop(token, None)  # its key changed: verify afresh, below
        principal, key, kid, expires_at = await self._verify_afresh(token)
        self._memo[token] = _Verified(principal, key, kid, expires_at)
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return principal

    async def _verify_afresh(self, token: str) -> tuple[Principal, jwt.PyJWK, str, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid_token("The access token is malformed.") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        # The header is unsigned input: `alg` may be any JSON value, and a list or
        # object in a set look-up would raise TypeError (a 500) instead of a 401.
        if (
            not isinstance(algorithm, str)
            or algorithm not in ALLOWED_ALGORITHMS
            or not isinstance(kid, str)
        ):
            raise _invalid_token("The access token is not signed the way identity signs.")
        key = await self.keys.get(kid)
        # A key is used only with its own algorithm (no RSA key read as an HMAC secret).
        if key is None or key.algorithm_name != algorithm:
            raise _invalid_token("The access token is signed by an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid_token("The access token has expired.") from None
        except jwt.PyJWTError:
            raise _invalid_token("The access token is not valid.") from None
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError:
            raise _invalid_token("The access token's subject is not a user id.") from None
        role, token_id, iat = claims["role"], claims["jti"], claims["iat"]
        if (
            not isinstance(role, str)
            or not isinstance(token_id, str)
            or not isinstance(iat, int | float)
        ):
            raise _invalid_token("The access token's claims are malformed.")
        issued_at = datetime.fromtimestamp(iat, UTC)
        principal = Principal(user_id=user_id, role=role, token_id=token_id, issued_at=issued_at)
        return principal, key, kid, float(claims["exp"])

    async def aclose(self) -> None:
        if self._on_close is not None:
            await self._on_close()


def jwks_token_verifier(
    settings: AuthSettings, *, client: httpx.AsyncClient | None = None
) -> TokenVerifier:
    """A verifier that fetches identity's JWKS over HTTP, as the other services do."""
    fetch = HttpJwksFetch(settings.jwks_url, timeout=settings.jwks_timeout_seconds, client=client)
    return TokenVerifier(
        keys=JwksCache(
            fetch, ttl=settings.jwks_cache_seconds, min_refetch=settings.jwks_min_refetch_seconds
        ),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway=settings.jwt_leeway_seconds,
        on_close=fetch.aclose,
    )


def install_token_verifier(app: FastAPI, verifier: TokenVerifier) -> None:
    """Make `CurrentUser` and `require_role` work in `app`."""
    app.state.token_verifier = verifier


_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from POST /api/v1/auth/login or /api/v1/auth/refresh.",
)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "This needs an access token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("install_token_verifier(app, ...) was not called for this app")
    return await verifier.verify(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """For routes anyone may call: None without a token; a token sent must be valid."""
    if credentials is None:
        return None
    return await current_user(request, credentials)


OptionalUser = Annotated[Principal | None, Depends(optional_user)]


def require_role(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers with one of `roles`.

    Use it as `dependencies=[Depends(require_role("ADMIN"))]`, or as a parameter
    `admin: Annotated[Principal, Depends(require_role("ADMIN"))]`.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    allowed = frozenset(str(role) for role in roles)
    needed = ("the role " if len(allowed) == 1 else "one of the roles ") + ", ".join(
        sorted(allowed)
    )

    async def has_role(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise Forbidden(f"This needs {needed}.")
        return user

    return has_role
