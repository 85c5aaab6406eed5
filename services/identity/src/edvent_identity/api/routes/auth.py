"""/api/v1/auth: register, log in, refresh, log out, the JWKS."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from edvent_identity.api.deps import ClientAddress, IdentityDep
from edvent_identity.api.schemas import (
    Jwks,
    LoginRequest,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
    problems,
)
from edvent_identity.services import auth as auth_service
from edvent_identity.services.auth import IssuedTokens

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# RFC 6749 §5.1: responses carrying tokens must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _pair(tokens: IssuedTokens, response: Response) -> TokenPair:
    response.headers.update(NO_STORE)
    return TokenPair(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=problems(409, 422),
    summary="Create an account (role STUDENT)",
)
async def register(body: UserCreate, identity: IdentityDep, response: Response) -> UserPublic:
    user = await auth_service.register(
        sessions=identity.sessions,
        passwords=identity.passwords,
        email=body.email,
        password=body.password,
        full_name=body.full_name,
    )
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    responses=problems(401, 422, 429),
    summary="Exchange email and password for an access and a refresh token",
    description="After too many failures for one email (or from one client address) "
    "within the window, answers 429 with Retry-After, even for the right password.",
)
async def login(
    body: LoginRequest, identity: IdentityDep, client: ClientAddress, response: Response
) -> TokenPair:
    tokens = await auth_service.login(
        sessions=identity.sessions,
        passwords=identity.passwords,
        keys=identity.keys,
        policy=identity.policy,
        throttle=identity.throttle,
        email=body.email,
        password=body.password,
        client_address=client,
    )
    return _pair(tokens, response)


@router.post(
    "/refresh",
    responses=problems(401, 422),
    summary="Exchange a refresh token for a new pair (the old one stops working)",
    description="Each refresh token works once. Presenting one that was already used "
    "revokes every token of that sign-in, so a client must not refresh twice in parallel.",
)
async def refresh(body: RefreshRequest, identity: IdentityDep, response: Response) -> TokenPair:
    tokens = await auth_service.refresh(
        sessions=identity.sessions,
        keys=identity.keys,
        policy=identity.policy,
        refresh_token=body.refresh_token,
    )
    return _pair(tokens, response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(422),
    summary="End the sign-in the refresh token belongs to",
    description="Revokes the token and every token rotated from the same login. "
    "Answers 204 also for an unknown token. Access tokens stay valid until they expire.",
)
async def logout(body: RefreshRequest, identity: IdentityDep) -> Response:
    await auth_service.logout(sessions=identity.sessions, refresh_token=body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/jwks",
    response_model=Jwks,
    summary="Public keys that verify access tokens (RFC 7517 JWK Set)",
)
async def jwks(identity: IdentityDep) -> JSONResponse:
    return JSONResponse(
        await identity.keys.jwks(),
        headers={"Cache-Control": f"public, max-age={identity.settings.jwks_max_age_seconds}"},
        media_type="application/jwk-set+json",
    )
