"""The local mail sink: Mailpit, SMTP in, a web UI and an HTTP API out; nothing
leaves the machine.

The binary is built once from the Go module proxy (`make mailpit`, which `make dev`
and `make test` depend on) into `.cache/mailpit/<version>/`; EDVENT_MAILPIT names
another one. Messages are kept in a SQLite file under the data dir.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from edvent_localstack.process import (
    CACHE_DIR,
    HttpServerProcess,
    ManagedProcess,
    StackError,
    ensure_port_free,
)

MAILPIT_VERSION = "v1.33.1"


def mailpit_binary() -> Path:
    path = Path(
        os.environ.get("EDVENT_MAILPIT", CACHE_DIR / "mailpit" / MAILPIT_VERSION / "mailpit")
    )
    if not path.exists():
        raise StackError(f"Mailpit is missing at {path}: run `make mailpit` (it builds it once)")
    return path


@dataclass
class MailpitServer(HttpServerProcess):
    data_dir: Path
    smtp_port: int
    http_port: int
    log_file: Path
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def smtp_address(self) -> str:
        return f"127.0.0.1:{self.smtp_port}"

    def start(self, timeout: float = 30) -> None:
        ensure_port_free(self.smtp_port, "Mailpit SMTP")
        ensure_port_free(self.http_port, "Mailpit UI")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(mailpit_binary()),
            "--smtp", self.smtp_address,
            "--listen", f"127.0.0.1:{self.http_port}",
            "--database", str(self.data_dir / "mailpit.db"),
            # A sink for development: any client may hand it mail, with or without login.
            "--smtp-auth-accept-any",
            "--smtp-auth-allow-insecure",
            "--disable-version-check",
        ]  # fmt: skip
        self._launch(
            ManagedProcess("Mailpit", argv, self.log_file, cwd=self.data_dir),
            port=self.smtp_port,
            health_url=f"{self.url}/api/v1/info",
            timeout=timeout,
        )


class MailpitClient:
    """Mailpit's HTTP API, as tests and the README tour read it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def messages(self, *, to: str | None = None) -> list[dict[str, Any]]:
        """Message summaries, newest first (`To`, `Subject`, `MessageID`, `ID`, …)."""
        if to is None:
            answer = httpx.get(f"{self.url}/api/v1/messages", params={"limit": 500}, timeout=5)
        else:
            answer = httpx.get(
                f"{self.url}/api/v1/search", params={"query": f"to:{to}", "limit": 500}, timeout=5
            )
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()["messages"]
        return found

    def message(self, message_id: str) -> dict[str, Any]:
        """One message in full (`Text`, `HTML`, headers), by Mailpit's own `ID`."""
        answer = httpx.get(f"{self.url}/api/v1/message/{message_id}", timeout=5)
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
        return document

    def delete_all(self) -> None:
        httpx.delete(f"{self.url}/api/v1/messages", timeout=5).raise_for_status()
