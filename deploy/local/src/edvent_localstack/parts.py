"""The stack's pieces as the supervisor sees them: start (until ready), stop, probe."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from edvent_localstack.process import ManagedProcess, StackError


class _Server(Protocol):
    """PostgresServer, KafkaBroker, S3Server and Gateway all look like this."""

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def running(self) -> bool: ...


@dataclass
class ServerPart:
    """Infrastructure or the gateway: a launcher class that already starts until ready."""

    name: str
    server: _Server
    address: str
    probe: Callable[[], bool]
    # Run after every start, e.g. creating the S3 bucket.
    after_start: Callable[[], None] | None = None
    # Where its output goes: its tail is shown when it does not come up.
    log_file: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.server.pid

    def start(self) -> None:
        self.server.start()
        if self.after_start is not None:
            self.after_start()

    def stop(self) -> None:
        self.server.stop()

    def running(self) -> bool:
        return self.server.running()

    def healthy(self) -> bool:
        return self.probe()


@dataclass
class ServicePart:
    """One service under uvicorn; ready when its /readyz answers 200."""

    name: str
    argv: Sequence[str]
    port: int
    log_file: Path
    env: dict[str, str]
    ready_timeout: float = 90
    _process: ManagedProcess | None = field(default=None, init=False, repr=False)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def launch(self) -> None:
        """Start the process without waiting (the stack starts all four, then waits)."""
        self._process = ManagedProcess(self.name, self.argv, self.log_file, env=self.env)
        self._process.start()

    def wait_ready(self) -> None:
        if self._process is None:
            raise StackError(f"{self.name} was not started")
        self._process.wait_ready(self.healthy, timeout=self.ready_timeout)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def healthy(self) -> bool:
        return http_ok(f"{self.address}/readyz")


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
