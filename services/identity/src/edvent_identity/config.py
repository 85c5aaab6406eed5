"""Identity's settings: environment variables prefixed IDENTITY_."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from edvent_identity.adapters.passwords import MIN_MEMORY_KIB, MIN_TIME_COST
from edvent_platform.auth import JwtSettings
from edvent_platform.settings import ServiceSettings


class Settings(ServiceSettings, JwtSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_")

    database_url: str = "postgresql+psycopg://identity:dev-password@127.0.0.1:5432/edvent"
    db_schema: str = "identity"

    # Tokens
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    # Idle lifetime: each refresh issues a successor valid this long again...
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300)
    # ...but never longer than this after the login that started the family.
    refresh_family_max_age_seconds: int = Field(default=30 * 86_400, ge=300)

    # Signing keys: a configured key (PEM text or file) wins over the generated ones
    # kept in the database. The passphrase encrypts generated keys at rest (required
    # in production unless a key is configured) and decrypts a configured encrypted PEM.
    signing_key_pem: SecretStr | None = None
    signing_key_file: Path | None = None
    signing_key_passphrase: SecretStr | None = None
    signing_key_algorithm: Literal["EdDSA", "RS256"] = "EdDSA"
    # How long an instance signs with the key it loaded before looking for a newer one.
    signing_key_reload_seconds: float = Field(default=60, ge=0)
    jwks_max_age_seconds: int = Field(default=300, ge=0)

    # Passwords: Argon2id, at least OWASP's minimum (defaults: RFC 9106 low-memory).
    argon2_time_cost: int = Field(default=3, ge=MIN_TIME_COST)
    argon2_memory_kib: int = Field(default=65_536, ge=MIN_MEMORY_KIB)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Hashing runs in worker processes with lowered priority, so it gets the CPU the
    # event loop leaves. At most workers + queue logins/registrations hash at once;
    # up to `waiting` more wait for a slot, each at most `wait_seconds`; past that,
    # 503 with Retry-After.
    password_hashing_workers: int = Field(default=1, ge=1)
    password_hashing_queue: int = Field(default=4, ge=0)
    password_hashing_waiting: int = Field(default=256, ge=0)
    password_hashing_wait_seconds: float = Field(default=10, ge=0)
    password_hashing_nice: int = Field(default=19, ge=0, le=19)
    password_hashing_retry_after_seconds: int = Field(default=1, ge=1)

    # Login throttling (stored in PostgreSQL, so it holds across instances). Per email
    # *from one client address*: that address is refused for that account, the owner
    # elsewhere is not.
    login_max_failures_per_email: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=50, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Per account from all addresses: past this many failures within the window each
    # attempt waits 2 s after the latest failure, doubling, at most the max delay.
    login_account_slowdown_after: int = Field(default=10, ge=1)
    login_account_max_delay_seconds: int = Field(default=60, ge=1, le=3600)
    # Registrations per client address (successful or not) within the window.
    register_max_per_client: int = Field(default=20, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1)
    # The client address the throttles count: `TRUSTED_PROXIES` (edvent_platform).

    # The first ADMIN (`edvent-identity create-admin`).
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    bootstrap_admin_full_name: str = "Administrator"

    maintenance_interval_seconds: float = Field(default=600, gt=0)

    # Accounts: password resets, email verification.
    # Links in emails point at the web client served here (no trailing slash needed).
    web_origin: str = "http://127.0.0.1:8080"
    email_verification_ttl_seconds: int = Field(default=7 * 86_400, ge=300)
    # Reset requests per address and per client within the window: past the address's
    # limit the answer is the same 202 but no more email goes out; past the client's, 429.
    password_reset_max_per_email: int = Field(default=3, ge=1)
    password_reset_max_per_client: int = Field(default=20, ge=1)
    password_reset_window_seconds: int = Field(default=3600, ge=1)
    # Off by default, so promotion works as before: on, promoting a user whose address
    # is not verified to INSTRUCTOR answers 409.
    require_verified_email_for_instructor: bool = False

    # Email delivery (SMTP). `make dev` points these at Mailpit.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # none: plain SMTP (a local sink); starttls: upgrade after connecting (587);
    # tls: TLS from the start (465).
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    email_from: str = "Edvent <no-reply@edvent.local>"
    # The sender runs in every instance; rows are claimed, so each goes out once.
    email_sender_enabled: bool = True
    email_poll_seconds: float = Field(default=1, gt=0)
    email_batch_size: int = Field(default=20, ge=1)
    email_max_attempts: int = Field(default=10, ge=1)
    email_retry_base_seconds: float = Field(default=5, gt=0)
    email_retry_max_seconds: float = Field(default=3600, gt=0)
    # Sent (or given up) messages, without their bodies, are kept this long.
    email_keep_seconds: int = Field(default=7 * 86_400, ge=0)

    # Data exports (GET /users/me/export): the services whose parts make one complete
    # (JSON list), how long a finished export can be downloaded, and how long an
    # unfinished one is awaited before the next GET asks the services again.
    export_services: list[str] = Field(
        default_factory=lambda: ["content", "assessment", "ai-notes"], min_length=1
    )
    export_available_seconds: int = Field(default=3600, ge=60)
    export_wait_seconds: int = Field(default=600, ge=10)

    @field_validator(
        "signing_key_pem",
        "signing_key_file",
        "signing_key_passphrase",
        "bootstrap_admin_email",
        "bootstrap_admin_password",
        "smtp_username",
        "smtp_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # docker-compose passes `${VAR:-}` through as an empty string.
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_keys_and_secrets(self) -> Self:
        if self.signing_key_pem is not None and self.signing_key_file is not None:
            raise ValueError("set IDENTITY_SIGNING_KEY_PEM or IDENTITY_SIGNING_KEY_FILE, not both")
        # Development values of the secrets themselves: ServiceSettings refuses them.
        configured = self.signing_key_pem is not None or self.signing_key_file is not None
        if (
            self.environment == "production"
            and self.signing_key_passphrase is None
            and not (configured)
        ):
            raise ValueError(
                "production needs IDENTITY_SIGNING_KEY_PASSPHRASE to encrypt the "
                "signing keys stored in the database (or a configured signing key)"
            )
        return self

    def configured_signing_key_pem(self) -> bytes | None:
        if self.signing_key_pem is not None:
            return self.signing_key_pem.get_secret_value().encode("ascii")
        if self.signing_key_file is not None:
            return self.signing_key_file.read_bytes()
        return None

    def signing_key_passphrase_bytes(self) -> bytes | None:
        if self.signing_key_passphrase is None:
            return None
        return self.signing_key_passphrase.get_secret_value().encode("utf-8")

    def email_claim_seconds(self) -> float:
        """How long a claimed message is left to its sender before another may try:
        longer than a whole SMTP exchange can take (connect, TLS, login, data)."""
        return 4 * self.smtp_timeout_seconds + 5
