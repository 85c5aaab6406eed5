"""Delivering email over SMTP (smtplib on a worker thread: the event loop never waits
on a mail server)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: UUID
    to_address: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    # "none", "starttls" (upgrade after connecting) or "tls" (implicit TLS, port 465).
    security: str
    timeout: float
    from_address: str


def message_id(outgoing_id: UUID, from_address: str) -> str:
    """The same for every attempt at one row: a message delivered twice (a crash after
    the server took it and before it was marked sent) shows as one id twice."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "edvent.local"
    return f"<{outgoing_id}@{domain}>"


def build(outgoing: Outgoing, *, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = Address(addr_spec=outgoing.to_address)
    message["Subject"] = outgoing.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(outgoing.id, from_address)
    message.set_content(outgoing.text)
    message.add_alternative(outgoing.html, subtype="html")
    return message


class SmtpSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, outgoing: Outgoing) -> None:
        """Hand the message to the server; raises on any failure."""
        message = build(outgoing, from_address=self.settings.from_address)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        client: smtplib.SMTP
        if s.security == "tls":
            client = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            if s.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password or "")
            client.send_message(message)
