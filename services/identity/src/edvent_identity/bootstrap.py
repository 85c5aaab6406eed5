"""identity's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_identity.adapters.passwords import Passwords
from edvent_identity.adapters.signing_keys import load_signing_key
from edvent_identity.adapters.smtp import SmtpSender, SmtpSettings
from edvent_identity.config import Settings
from edvent_identity.domain.accounts import PASSWORD_RESET_LIFETIME
from edvent_identity.domain.throttle import SlowdownRule, ThrottleRule
from edvent_identity.usecases import emails, maintenance
from edvent_identity.usecases import exports as exports_usecase
from edvent_identity.usecases.accounts import AccountPolicy
from edvent_identity.usecases.auth import Throttles, TokenPolicy
from edvent_identity.usecases.keys import KeyRing
from edvent_platform.auth import JwksCache, TokenVerifier
from edvent_platform.db import transaction
from edvent_platform.jobs import JobRunner

logger = logging.getLogger("edvent.identity")


def passwords_from(settings: Settings) -> Passwords:
    return Passwords(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        workers=settings.password_hashing_workers,
        queue=settings.password_hashing_queue,
        nice=settings.password_hashing_nice,
        waiting=settings.password_hashing_waiting,
        wait_seconds=settings.password_hashing_wait_seconds,
        retry_after=settings.password_hashing_retry_after_seconds,
    )


def key_retention(settings: Settings) -> timedelta:
    """How long a retired key stays published: until every token it signed expired.

    An instance that has not reloaded yet signs with the old key for up to the reload
    interval after the rotation, and each such token lives the access-token lifetime;
    leeway on both ends for clocks.
    """
    return timedelta(
        seconds=settings.access_token_ttl_seconds
        + settings.signing_key_reload_seconds
        + 2 * settings.jwt_leeway_seconds
    )


def keyring_from(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> KeyRing:
    pem = settings.configured_signing_key_pem()
    passphrase = settings.signing_key_passphrase_bytes()
    return KeyRing(
        sessions=sessions,
        configured=load_signing_key(pem, passphrase=passphrase) if pem is not None else None,
        passphrase=passphrase,
        algorithm=settings.signing_key_algorithm,
        reload_seconds=settings.signing_key_reload_seconds,
        retention=key_retention(settings),
    )


def smtp_sender_from(settings: Settings) -> SmtpSender:
    return SmtpSender(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=(
                settings.smtp_password.get_secret_value() if settings.smtp_password else None
            ),
            security=settings.smtp_security,
            timeout=settings.smtp_timeout_seconds,
            from_address=settings.email_from,
        )
    )


def delivery_policy_from(settings: Settings) -> emails.DeliveryPolicy:
    return emails.DeliveryPolicy(
        batch_size=settings.email_batch_size,
        claim=timedelta(seconds=settings.email_claim_seconds()),
        max_attempts=settings.email_max_attempts,
        retry_base_seconds=settings.email_retry_base_seconds,
        retry_max_seconds=settings.email_retry_max_seconds,
    )


@dataclass
class Identity:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    passwords: Passwords
    keys: KeyRing
    policy: TokenPolicy
    throttles: Throttles
    verifier: TokenVerifier
    accounts: AccountPolicy
    mailer: SmtpSender
    delivery: emails.DeliveryPolicy
    exports: exports_usecase.ExportPolicy
    # The service's job runner (libs/platform), once `register_jobs` was called.
    _jobs: JobRunner | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Identity:
        keys = keyring_from(settings, sessions)
        login_window = timedelta(seconds=settings.login_failure_window_seconds)
        return cls(
            settings=settings,
            sessions=sessions,
            passwords=passwords_from(settings),
            keys=keys,
            policy=TokenPolicy(
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                access_lifetime=timedelta(seconds=settings.access_token_ttl_seconds),
                refresh_lifetime=timedelta(seconds=settings.refresh_token_ttl_seconds),
                family_lifetime=timedelta(seconds=settings.refresh_family_max_age_seconds),
            ),
            throttles=Throttles(
                login_per_account_client=ThrottleRule(
                    settings.login_max_failures_per_email, login_window
                ),
                login_per_client=ThrottleRule(settings.login_max_failures_per_client, login_window),
                login_account_slowdown=SlowdownRule(
                    after=settings.login_account_slowdown_after,
                    max_delay=timedelta(seconds=settings.login_account_max_delay_seconds),
                    window=login_window,
                ),
                register_per_client=ThrottleRule(
                    settings.register_max_per_client,
                    timedelta(seconds=settings.register_window_seconds),
                ),
            ),
            # identity verifies its own tokens against its key set directly, no HTTP.
            verifier=TokenVerifier(
                keys=JwksCache(
                    keys.jwks,
                    ttl=max(settings.signing_key_reload_seconds, 1.0),
                    # A cheap local query, but still not one per made-up key id.
                    min_refetch=0.5,
                ),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                leeway=settings.jwt_leeway_seconds,
            ),
            accounts=AccountPolicy(
                web_origin=settings.web_origin,
                verification_lifetime=timedelta(seconds=settings.email_verification_ttl_seconds),
                reset_lifetime=PASSWORD_RESET_LIFETIME,
                reset_per_email=ThrottleRule(
                    settings.password_reset_max_per_email,
                    timedelta(seconds=settings.password_reset_window_seconds),
                ),
                reset_per_client=ThrottleRule(
                    settings.password_reset_max_per_client,
                    timedelta(seconds=settings.password_reset_window_seconds),
                ),
            ),
            mailer=smtp_sender_from(settings),
            delivery=delivery_policy_from(settings),
            exports=exports_usecase.ExportPolicy(
                services=tuple(settings.export_services),
                available_for=timedelta(seconds=settings.export_available_seconds),
                wait_for=timedelta(seconds=settings.export_wait_seconds),
            ),
        )

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work: commits when the block ends normally, else rolls back."""
        return transaction(self.sessions)

    def register_jobs(self, jobs: JobRunner) -> None:
        """identity's background work, on the service's one job runner."""
        self._jobs = jobs
        # Pruning needs one replica at a time; the first pass waits one interval.
        jobs.every(
            self.settings.maintenance_interval_seconds,
            self.prune,
            name="maintenance",
            single_runner=True,
            wait_first=True,
        )
        if self.settings.email_sender_enabled:
            # Every replica sends: rows are claimed with SKIP LOCKED, so each message
            # goes to one sender. Polling, as the outbox relay falls back to.
            jobs.every(self.settings.email_poll_seconds, self._send_due_emails, name="email-sender")

    async def start(self) -> None:
        await self.keys.start()
        # The hashing worker starts (and makes the dummy hash) beside serving, not
        # before it: niced, it can take seconds on a busy machine, and every service
        # needs this one's JWKS meanwhile. A login that comes first waits for it.
        assert self._jobs is not None, "register_jobs() before start()"
        self._jobs.spawn(self._warm_up_hashing, name="warm-up")

    async def _warm_up_hashing(self) -> None:
        try:
            await self.passwords.start()
        except Exception:
            logger.exception("password hashing did not warm up; the first login will")

    async def stop(self) -> None:
        # The job runner has stopped its jobs by now (before the app's shutdown hooks).
        self.passwords.close()

    async def prune(self) -> None:
        async with self.transaction() as session:
            await maintenance.prune(
                session=session,
                throttle_window=max(
                    self.throttles.login_per_account_client.window,
                    self.throttles.login_account_slowdown.window,
                    self.throttles.login_per_client.window,
                    self.throttles.register_per_client.window,
                    self.accounts.reset_per_email.window,
                    self.accounts.reset_per_client.window,
                ),
                key_retention=self.keys.retention,
                email_retention=timedelta(seconds=self.settings.email_keep_seconds),
            )
            await exports_usecase.prune(session=session, policy=self.exports)

    async def deliver_emails(self) -> int:
        """One pass of the email sender (the job below runs it; tests call it)."""
        return await emails.deliver_due(
            transaction=self.transaction, send=self.mailer.send, policy=self.delivery
        )

    async def _send_due_emails(self) -> None:
        while await self.deliver_emails():
            pass  # a full batch may mean more is due
