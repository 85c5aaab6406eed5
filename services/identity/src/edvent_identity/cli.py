"""`edvent-identity`: migrate, serve, create-admin, rotate-signing-key, send-emails."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from edvent_identity.bootstrap import delivery_policy_from, passwords_from, smtp_sender_from
from edvent_identity.config import Settings
from edvent_identity.domain.errors import PolicyViolation
from edvent_identity.usecases import auth as auth_usecases
from edvent_identity.usecases import emails as emails_usecases
from edvent_identity.usecases import keys as keys_usecases
from edvent_identity.usecases import users as users_usecases
from edvent_platform.cli import service_main
from edvent_platform.db import create_engine, session_factory, transaction

SERVICE_DIR = Path(__file__).resolve().parents[2]


async def _create_admin(
    settings: Settings, *, email: str, password: str | None, full_name: str
) -> str:
    engine = create_engine(
        settings.database_url, schema=settings.db_schema, app_name="identity-cli"
    )
    passwords = passwords_from(settings)
    try:
        password_hash = None
        if password:
            async with passwords.slot() as hashing:
                password_hash = await auth_usecases.hash_new_password(
                    hashing=hashing, password=password
                )
        async with transaction(session_factory(engine)) as session:
            outcome, user = await users_usecases.bootstrap_admin(
                session=session, email=email, password_hash=password_hash, full_name=full_name
            )
    finally:
        passwords.close()
        await engine.dispose()
    return {
        users_usecases.BootstrapOutcome.CREATED: f"created ADMIN {user.email} ({user.id})",
        users_usecases.BootstrapOutcome.PROMOTED: f"promoted {user.email} ({user.id}) to ADMIN",
        users_usecases.BootstrapOutcome.UNCHANGED: f"{user.email} ({user.id}) is already ADMIN",
    }[outcome]


def create_admin(args: argparse.Namespace) -> None:
    settings = Settings()
    email = args.email or settings.bootstrap_admin_email
    password = args.password or (
        settings.bootstrap_admin_password.get_secret_value()
        if settings.bootstrap_admin_password
        else None
    )
    if not email:
        sys.exit("create-admin: give --email or set IDENTITY_BOOTSTRAP_ADMIN_EMAIL")
    try:
        message = asyncio.run(
            _create_admin(
                settings,
                email=email,
                password=password,
                full_name=args.full_name or settings.bootstrap_admin_full_name,
            )
        )
    except PolicyViolation as exc:
        sys.exit(f"create-admin: {exc}")
    print(message)


async def _rotate(settings: Settings) -> str:
    engine = create_engine(
        settings.database_url, schema=settings.db_schema, app_name="identity-cli"
    )
    try:
        async with transaction(session_factory(engine)) as session:
            old, new = await keys_usecases.rotate(
                session=session,
                passphrase=settings.signing_key_passphrase_bytes(),
                algorithm=settings.signing_key_algorithm,
            )
    finally:
        await engine.dispose()
    return f"new signing key {new.kid} ({new.algorithm}); retired {old or 'nothing'}"


def rotate_signing_key(_: argparse.Namespace) -> None:
    settings = Settings()
    if settings.configured_signing_key_pem() is not None:
        sys.exit(
            "rotate-signing-key: the signing key comes from IDENTITY_SIGNING_KEY_PEM/_FILE; "
            "rotate it by configuring the new key instead"
        )
    print(asyncio.run(_rotate(settings)))


async def _send_emails(settings: Settings) -> int:
    engine = create_engine(
        settings.database_url, schema=settings.db_schema, app_name="identity-cli"
    )
    sessions = session_factory(engine)
    sender, policy = smtp_sender_from(settings), delivery_policy_from(settings)
    total = 0
    try:
        while sent := await emails_usecases.deliver_due(
            transaction=lambda: transaction(sessions), send=sender.send, policy=policy
        ):
            total += sent
    finally:
        await engine.dispose()
    return total


def send_emails(_: argparse.Namespace) -> None:
    print(f"sent {asyncio.run(_send_emails(Settings()))} email(s)")


def _commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser(
        "create-admin",
        help="create the first ADMIN, or promote an existing account (idempotent)",
        description="Defaults come from IDENTITY_BOOTSTRAP_ADMIN_EMAIL, "
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD and IDENTITY_BOOTSTRAP_ADMIN_FULL_NAME. "
        "An existing account keeps its password.",
    )
    admin.add_argument("--email")
    admin.add_argument("--password", help="prefer the environment variable: argv is visible")
    admin.add_argument("--full-name")
    admin.set_defaults(func=create_admin)
    rotate = sub.add_parser(
        "rotate-signing-key",
        help="start signing access tokens with a new key; the old one stays published "
        "until the tokens it signed have expired",
    )
    rotate.set_defaults(func=rotate_signing_key)
    send = sub.add_parser(
        "send-emails",
        help="deliver the emails that are due now, once (the service does it on its own "
        "every IDENTITY_EMAIL_POLL_SECONDS)",
    )
    send.set_defaults(func=send_emails)


def main(argv: list[str] | None = None) -> None:
    service_main(
        prog="edvent-identity",
        env_prefix="IDENTITY_",
        service_dir=SERVICE_DIR,
        app_factory="edvent_identity.main:create_app",
        default_port=8001,
        extra=_commands,
        argv=argv,
    )
