"""Starting and stopping the stack's child processes.

Every process runs in its own session (process group) so that stopping it also
stops whatever it forked (a JVM, nginx workers, uvicorn reloaders), and its
output goes to a log file whose tail is shown when it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PACKAGE_DIR = Path(__file__).resolve().parent
LOCAL_DIR = PACKAGE_DIR.parents[1]  # deploy/local: configs and poms live here
REPO_ROOT = LOCAL_DIR.parents[1]
CACHE_DIR = Path(os.environ.get("EDVENT_CACHE_DIR", REPO_ROOT / ".cache"))


class StackError(RuntimeError):
    """A piece of infrastructure could not be started; the message says why."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(port: int, what: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"port {port} (for {what}) is already in use; stop whatever listens there "
            f"or choose another port with the matching *_PORT variable"
        )


def free_port() -> int:
    """A port the kernel considers free right now (for tests)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports the kernel considers free right now. Each socket stays
    bound until all are chosen: one closed at once may be handed out again by the next
    bind (a stack once got the same port for PostgreSQL and identity)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(port: int, *, timeout: float, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class ManagedProcess:
    """One child process with a log file, started in its own process group."""

    name: str
    argv: Sequence[str]
    log_file: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    user: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        try:
            self.process = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                user=self.user,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise StackError(f"{self.name}: cannot run {self.argv[0]!r}: {exc}") from exc
        finally:
            log.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, check: Callable[[], bool], *, timeout: float) -> None:
        """Poll `check` until it is true; fail early if the process died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                code = self.process.returncode if self.process else None
                raise StackError(
                    f"{self.name} exited with code {code} while starting; "
                    f"last lines of {self.log_file}:\n{log_tail(self.log_file)}"
                )
            try:
                ready = check()
            except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
                ready = False
            if ready:
                return
            time.sleep(0.2)
        self.stop()
        raise StackError(
            f"{self.name} did not become ready within {timeout:.0f}s; "
            f"last lines of {self.log_file}:\n{log_tail(self.log_file)}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is not None:
            # The leader died (crashed, killed): what it forked may live on in its
            # group (postgres backends, nginx workers, hashing workers) and hold ports
            # or shared memory the next start needs.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            return
        stop_process_group(self.process.pid, timeout=timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)


def stop_process_group(pid: int, *, timeout: float = 15.0) -> None:
    """SIGTERM the group led by `pid`, then SIGKILL whatever is left."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        # Reap our own child so the group can disappear.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


class HttpServerProcess:
    """A local server run as one `ManagedProcess` and ready once its port is open and a
    health URL answers 200 (Mailpit, Jaeger, Ralph). Subclasses set `_process` to None
    and call `_launch` from their `start`."""

    _process: ManagedProcess | None

    def _launch(
        self,
        process: ManagedProcess,
        *,
        port: int,
        health_url: str,
        timeout: float,
    ) -> None:
        self._process = process
        process.start()

        def ready() -> bool:
            return wait_for_port(port, timeout=0.2) and (
                httpx.get(health_url, timeout=1).status_code == 200
            )

        process.wait_ready(ready, timeout=timeout)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.running() else None

    def running(self) -> bool:
        return self._process is not None and self._process.running()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
