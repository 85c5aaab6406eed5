"""The emails identity sends: subject, plain text and HTML, and their links.

Links point at the web client (`<web origin>/reset-password?token=…`), which posts
the token to the API; the API itself never serves a page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode


class EmailKind(StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a name, no secret
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a name, no secret


@dataclass(frozen=True, slots=True)
class EmailContent:
    kind: EmailKind
    subject: str
    text: str
    html: str


def link(origin: str, path: str, token: str) -> str:
    return f"{origin.rstrip('/')}{path}?{urlencode({'token': token})}"


def _html(title: str, paragraphs: list[str], *, button: tuple[str, str] | None = None) -> str:
    """A minimal HTML body; every value in it is escaped."""
    parts = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    if button is not None:
        label, href = button
        parts.insert(
            1,
            f'<p><a href="{html.escape(href, quote=True)}">{html.escape(label)}</a></p>',
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{''.join(parts)}</body></html>"
    )


def verification_email(*, full_name: str, origin: str, token: str) -> EmailContent:
    url = link(origin, "/verify-email", token)
    subject = "Confirm your email address for Edvent"
    greeting = f"Hello {full_name},"
    body = "Please confirm that this is your email address by opening this link:"
    note = "If you did not create an Edvent account, you can ignore this email."
    return EmailContent(
        kind=EmailKind.VERIFY_EMAIL,
        subject=subject,
        text=f"{greeting}\n\n{body}\n\n{url}\n\n{note}\n",
        html=_html(subject, [greeting, body, note], button=("Confirm my address", url)),
    )


def password_reset_email(*, origin: str, token: str, valid_minutes: int) -> EmailContent:
    url = link(origin, "/reset-password", token)
    subject = "Reset your Edvent password"
    body = (
        "Someone (we hope you) asked to reset the password of the Edvent account of "
        f"this address. Open this link within {valid_minutes} minutes to choose a new one:"
    )
    note = "The link works once. If you did not ask for it, ignore this email: nothing changes."
    return EmailContent(
        kind=EmailKind.PASSWORD_RESET,
        subject=subject,
        text=f"{body}\n\n{url}\n\n{note}\n",
        html=_html(subject, [body, note], button=("Choose a new password", url)),
    )


def password_changed_email(*, full_name: str, origin: str) -> EmailContent:
    subject = "Your Edvent password was changed"
    greeting = f"Hello {full_name},"
    body = (
        "The password of your Edvent account was just changed, and every device "
        "signed in to it was signed out."
    )
    note = (
        "If this was not you, reset your password at once from the sign-in page: "
        f"{origin.rstrip('/')}/"
    )
    return EmailContent(
        kind=EmailKind.PASSWORD_CHANGED,
        subject=subject,
        text=f"{greeting}\n\n{body}\n\n{note}\n",
        html=_html(subject, [greeting, body, note]),
    )


def retry_delay_seconds(*, attempts: int, base: float, cap: float) -> float:
    """Exponential backoff after the `attempts`-th failed delivery."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))
