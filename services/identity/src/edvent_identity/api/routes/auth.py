"""/api/v1/auth: register, log in, refresh, log out, the JWKS."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from edvent_identity.api.deps import (
    ClientAddress,
    HashingDep,
    IdentityDep,
    ReadSessionDep,
    SessionDep,
    SignedIn,
)
from edvent_identity.api.schemas import (
    EmailVerification,
    Jwks,
    LoginRequest,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
    problems,
)
from edvent_identity.domain.errors import EmailAlreadyRegistered, InvalidRefreshToken
from edvent_identity.usecases import accounts, auth
from edvent_identity.usecases import keys as keys_usecases
from edvent_identity.usecases import users as users_usecases
from edvent_identity.usecases.auth import IssuedTokens

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
    responses=problems(409, 422, 429, 503),
    summary="Create an account (role STUDENT)",
    description="Sends a link to confirm the address (`<web origin>/verify-email?token=…`; "
    "see POST /api/v1/auth/verify-email); the account works before that. Too many "
    "registrations from one client address within the window answer 429 with "
    "Retry-After; when the service is busy hashing passwords, 503 with Retry-After.",
)
async def register(
    body: UserCreate,
    identity: IdentityDep,
    hashing: HashingDep,
    client: ClientAddress,
    response: Response,
) -> UserPublic:
    async with identity.transaction() as session:
        taken = await auth.admit_registration(
            session=session, throttles=identity.throttles, email=body.email, client_address=client
        )
    # After the commit: the attempt counts against the address even when refused.
    if taken:
        raise EmailAlreadyRegistered(body.email)
    # Outside any transaction: no connection waits on Argon2.
    password_hash = await auth.hash_new_password(hashing=hashing, password=body.password)
    async with identity.transaction() as session:
        user = await auth.register(
            session=session, email=body.email, password_hash=password_hash, full_name=body.full_name
        )
        await accounts.send_verification(session=session, user=user, policy=identity.accounts)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    responses=problems(401, 403, 422, 429, 503),
    summary="Exchange email and password for an access and a refresh token",
    description="After 5 failures for one email from one client address within 15 "
    "minutes, that client gets 429 with Retry-After for that email, even with the right "
    "password, while the account's owner still signs in from another address. After 50 "
    "failures from one address, that address gets 429 for any email. Many failures for "
    "one email from many addresses slow every attempt for it down: 429 with a "
    "Retry-After that grows from 2 s to at most 60 s after the latest failure, never "
    "a lockout. The right password of a disabled account answers 403 with the problem "
    "type urn:edvent:problem:account-disabled. When the service is busy hashing "
    "passwords, 503 with Retry-After.",
)
async def login(
    body: LoginRequest,
    identity: IdentityDep,
    hashing: HashingDep,
    client: ClientAddress,
    response: Response,
) -> TokenPair:
    async with identity.transaction() as session:
        attempt = await auth.start_login(
            session=session, throttles=identity.throttles, email=body.email, client_address=client
        )
    # Outside any transaction: no connection waits on Argon2. A wrong password leaves
    # the attempt counted as a failure.
    new_hash = await auth.check_password(hashing=hashing, attempt=attempt, password=body.password)
    key = await identity.keys.signing_key()
    async with identity.transaction() as session:
        tokens = await auth.finish_login(
            session=session, attempt=attempt, new_hash=new_hash, key=key, policy=identity.policy
        )
    return _pair(tokens, response)


@router.post(
    "/refresh",
    responses=problems(401, 422),
    summary="Exchange a refresh token for a new pair (the old one stops working)",
    description="Each refresh token works once. Presenting one that was already used "
    "revokes every token of that sign-in, so a client must not refresh twice in parallel. "
    "A sign-in ends for good after IDENTITY_REFRESH_FAMILY_MAX_AGE_SECONDS (30 days by "
    "default) however often it was refreshed.",
)
async def refresh(body: RefreshRequest, identity: IdentityDep, response: Response) -> TokenPair:
    key = await identity.keys.signing_key()
    async with identity.transaction() as session:
        outcome = await auth.refresh(
            session=session, key=key, policy=identity.policy, refresh_token=body.refresh_token
        )
    # Raised after the commit: the revocation of a reused family must stick.
    if not isinstance(outcome, IssuedTokens):
        raise InvalidRefreshToken(outcome.value)
    return _pair(outcome, response)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(422),
    summary="End the sign-in the refresh token belongs to",
    description="Revokes the token and every token rotated from the same login. "
    "Answers 204 also for an unknown token. Access tokens stay valid until they expire.",
)
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    await auth.logout(session=session, refresh_token=body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401),
    summary="End every session of the signed-in user",
    description="Revokes every refresh token of the user; access tokens issued until now "
    "(this one too) are refused by every service within seconds. Publishes "
    "UserSessionsRevoked (reason logout_all).",
)
async def logout_all(user: SignedIn, identity: IdentityDep) -> Response:
    async with identity.transaction() as session:
        await accounts.logout_all(session=session, principal=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 422, 429, 503),
    summary="Change the signed-in user's password",
    description="The current password must be right (else 403); the new one follows the "
    "rules of registration (else 422). Every session ends, this one included: refresh "
    "tokens are revoked and access tokens issued until now are refused everywhere within "
    "seconds (UserSessionsRevoked, reason password_changed); sign in again with the new "
    "password. An email tells the user. Wrong current passwords count as failed logins "
    "of the account from this client (429 with Retry-After past the limit).",
)
async def change_password(
    body: PasswordChange,
    user: SignedIn,
    identity: IdentityDep,
    hashing: HashingDep,
    client: ClientAddress,
) -> Response:
    async with identity.transaction() as session:
        account = await users_usecases.current_account(session=session, principal=user)
        check = await accounts.start_password_change(
            session=session, user=account, throttles=identity.throttles, client_address=client
        )
    # Outside any transaction: no connection waits on Argon2.
    new_hash = await accounts.check_current_and_hash_new(
        hashing=hashing,
        check=check,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    async with identity.transaction() as session:
        await accounts.finish_password_change(
            session=session, check=check, new_hash=new_hash, policy=identity.accounts
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    # No body: the answer says nothing about the address.
    response_class=Response,
    responses={202: {"description": "Accepted, with no body"}, **problems(422, 429)},
    summary="Email a link to choose a new password",
    description="Answers 202 with no body for any address, known or not, in the same "
    "time. A known, enabled account gets an email with a single-use link "
    "(`<web origin>/reset-password?token=…`) valid 30 minutes. At most "
    "IDENTITY_PASSWORD_RESET_MAX_PER_EMAIL emails per address within the window (further "
    "requests still answer 202); more than IDENTITY_PASSWORD_RESET_MAX_PER_CLIENT requests "
    "from one client address answer 429 with Retry-After.",
)
async def request_password_reset(
    body: PasswordResetRequest, identity: IdentityDep, client: ClientAddress
) -> Response:
    async with identity.transaction() as session:
        await accounts.request_password_reset(
            session=session, email=body.email, client_address=client, policy=identity.accounts
        )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 422, 503),
    summary="Set a new password with the token of a reset link",
    description="A used, expired or unknown token answers 400. The new password follows "
    "the rules of registration (else 422). Every session of the user ends "
    "(UserSessionsRevoked, reason password_reset), every earlier reset link stops "
    "working, the address counts as verified, and an email tells the user.",
)
async def confirm_password_reset(
    body: PasswordResetConfirm, identity: IdentityDep, hashing: HashingDep
) -> Response:
    async with identity.transaction() as session:
        await accounts.check_reset_token(session=session, token=body.token)
    new_hash = await auth.hash_new_password(hashing=hashing, password=body.new_password)
    async with identity.transaction() as session:
        await accounts.confirm_password_reset(
            session=session, token=body.token, new_hash=new_hash, policy=identity.accounts
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(400, 422),
    summary="Confirm an email address with the token of the link sent at registration",
    description="The user's `email_verified` becomes true. A used, expired or unknown "
    "token answers 400.",
)
async def verify_email(body: EmailVerification, session: SessionDep) -> Response:
    await accounts.verify_email(session=session, token=body.token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class JwkSetResponse(JSONResponse):
    media_type = "application/jwk-set+json"  # RFC 7517 §8.5


@router.get(
    "/jwks",
    response_model=Jwks,
    response_class=JwkSetResponse,
    summary="Public keys that verify access tokens (RFC 7517 JWK Set)",
)
async def jwks(identity: IdentityDep, session: ReadSessionDep) -> JwkSetResponse:
    return JwkSetResponse(
        await keys_usecases.published_keys(session=session, retention=identity.keys.retention),
        headers={"Cache-Control": f"public, max-age={identity.settings.jwks_max_age_seconds}"},
    )
