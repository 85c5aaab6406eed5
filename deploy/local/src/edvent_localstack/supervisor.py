"""Keeps the stack's parts running, the way an orchestrator keeps pods running.

A part (PostgreSQL, Kafka, S3, a service, the gateway) that exits without being asked
to is restarted after a backoff that doubles with each crash (0.5 s, 1 s, 2 s, … at
most 30 s); every restart is logged and counted. A part that crashes `crash_limit`
times within `crash_window` seconds (a failed start counts as a crash) is left
stopped and shown as failed until someone starts it again. Nothing else is touched
when one part crashes: the other parts keep their processes.

Other shells talk to the supervisor over a Unix socket (`ControlServer`): one JSON
request per connection (`{"command": "status"}`, `{"command": "restart", "part":
"identity"}`), one JSON answer. `edvent-stack status|restart|stop|start` are its client.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edvent_localstack.process import StackError


class Part(Protocol):
    """One supervised piece of the stack."""

    name: str

    @property
    def address(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    def start(self) -> None:
        """Start and block until ready; raise StackError when that fails."""

    def stop(self) -> None:
        """Stop it and whatever it forked; also cleans up after a crashed process."""

    def running(self) -> bool: ...

    def healthy(self) -> bool:
        """A quick probe (a second at most) for `status`."""


# What a part is doing, as `status` shows it.
STARTING, RUNNING, BACKOFF, FAILED, STOPPING, STOPPED = (
    "starting",
    "running",
    "backoff",
    "failed",
    "stopping",
    "stopped",
)


@dataclass
class _Supervised:
    part: Part
    state: str = STOPPED
    restarts: int = 0  # automatic restarts after a crash
    crashes: deque[float] = field(default_factory=deque)  # monotonic times, within the window
    restart_at: float | None = None
    busy: bool = False  # a start/stop is in progress in some thread
    message: str = ""


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Part],
        *,
        log: Callable[[str], None] = print,
        on_change: Callable[[], None] | None = None,
        crash_limit: int = 5,
        crash_window: float = 60.0,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self._parts = {part.name: _Supervised(part) for part in parts}
        self._order = [part.name for part in parts]  # start order; stopped in reverse
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._log = log
        self._on_change = on_change
        self.crash_limit = crash_limit
        self.crash_window = crash_window
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff

    # -- starting ----------------------------------------------------------------------

    def launched(self, name: str) -> None:
        """Tell the supervisor a part was started from outside and now runs."""
        entry = self._parts[name]
        with self._lock:
            entry.state, entry.message = RUNNING, ""
        self._changed()

    def failed_to_start(self, name: str, error: str) -> None:
        """A part started from outside did not come up: a crash like any other."""
        with self._lock:
            self._crashed(
                self._parts[name], f"did not start: {_first_line(error)}", time.monotonic()
            )
        self._changed()

    # -- the loop ----------------------------------------------------------------------

    def tick(self) -> None:
        """Notice exited parts and restart those whose backoff is over."""
        now = time.monotonic()
        due: list[_Supervised] = []
        with self._lock:
            if self._closing:
                return
            for entry in self._parts.values():
                if entry.busy:
                    continue
                if entry.state == RUNNING and not entry.part.running():
                    self._crashed(entry, "exited", now)
                elif entry.state == BACKOFF and now >= (entry.restart_at or now):
                    entry.busy, entry.state, entry.restart_at = True, STARTING, None
                    entry.restarts += 1
                    due.append(entry)
        for entry in due:
            self._log(f"{entry.part.name}: restart #{entry.restarts}")
            self._spawn(self._run_start, entry, True)
        if due:
            self._changed()

    def run(self, interval: float = 0.25) -> None:
        """Supervise until KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one)."""
        while True:
            self.tick()
            time.sleep(interval)

    def _crashed(self, entry: _Supervised, why: str, now: float) -> None:
        # Called with the lock held.
        name = entry.part.name
        pid = entry.part.pid
        with contextlib.suppress(Exception):
            entry.part.stop()  # what the dead process left behind (its group's members)
        entry.crashes.append(now)
        while entry.crashes and entry.crashes[0] < now - self.crash_window:
            entry.crashes.popleft()
        count = len(entry.crashes)
        if count >= self.crash_limit:
            entry.state, entry.restart_at = FAILED, None
            entry.message = (
                f"{why}; {count} crashes within {self.crash_window:.0f}s, left stopped "
                f"(`edvent-stack start {name}` tries again)"
            )
            self._log(f"{name} (pid {pid}): {entry.message}")
            return
        delay = min(self.first_backoff * 2 ** (count - 1), self.max_backoff)
        entry.state, entry.restart_at = BACKOFF, now + delay
        entry.message = f"{why}; restarting in {delay:g}s"
        self._log(f"{name} (pid {pid}): {entry.message}")

    def _run_start(self, entry: _Supervised, automatic: bool) -> None:
        try:
            if self._closing:
                raise StackError("the stack is shutting down")
            entry.part.start()
        except Exception as exc:  # noqa: BLE001 - a bug in a part must not stop the others
            why = _first_line(str(exc)) if isinstance(exc, StackError) else repr(exc)
            with self._lock:
                entry.busy = False
                if self._closing or entry.state != STARTING:
                    return
                self._crashed(entry, f"start failed: {why}", time.monotonic())
        else:
            with self._lock:
                entry.busy = False
                entry.state, entry.message = RUNNING, ""
                closing = self._closing
            if closing:  # started while everything else was being stopped
                entry.part.stop()
                return
            if automatic:
                self._log(f"{entry.part.name}: running again (pid {entry.part.pid})")
        self._changed()

    # -- actions from `edvent-stack` -----------------------------------------------------

    def act(self, command: str, name: str) -> dict[str, Any]:
        """restart|stop|start one part; blocks until done and returns its status."""
        if command not in ("restart", "stop", "start"):
            raise ValueError(f"unknown command {command!r}")
        if name not in self._parts:
            raise ValueError(f"unknown part {name!r}; parts: {', '.join(self._order)}")
        entry = self._parts[name]
        with self._lock:
            if self._closing:
                raise ValueError("the stack is shutting down")
            if entry.busy:
                raise ValueError(f"{name} is {entry.state}; try again in a moment")
            entry.busy = True
            previous = entry.state
        self._log(f"{name}: {command} requested")
        try:
            if command in ("restart", "stop") and previous not in (STOPPED, FAILED):
                with self._lock:
                    entry.state, entry.restart_at = STOPPING, None
                self._changed()
                entry.part.stop()
                with self._lock:
                    entry.state, entry.message = STOPPED, f"stopped by {command}"
            if command in ("restart", "start"):
                if command == "start" and previous in (RUNNING, STARTING):
                    return self.status(name)
                with self._lock:
                    entry.state, entry.message = STARTING, ""
                    entry.crashes.clear()  # a deliberate start gets the full allowance again
                self._changed()
                self._run_start(entry, automatic=False)
                return self.status(name)
        finally:
            with self._lock:
                entry.busy = False
            self._changed()
        return self.status(name)

    # -- status ------------------------------------------------------------------------

    def status(self, name: str, *, probe: bool = True) -> dict[str, Any]:
        entry = self._parts[name]
        with self._lock:
            row: dict[str, Any] = {
                "part": name,
                "state": entry.state,
                "pid": entry.part.pid if entry.part.running() else None,
                "address": entry.part.address,
                "restarts": entry.restarts,
                "message": entry.message,
            }
        if probe:
            try:
                healthy = entry.part.healthy()
            except Exception:  # noqa: BLE001 - any failure of a probe means "not healthy"
                healthy = False
            row["health"] = "ok" if healthy else "down"
        return row

    def snapshot(self, *, probe: bool = True) -> list[dict[str, Any]]:
        return [self.status(name, probe=probe) for name in self._order]

    def pids(self) -> list[int]:
        with self._lock:
            return [pid for e in self._parts.values() if (pid := e.part.pid) is not None]

    # -- shutdown ----------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every part (reverse start order), also those still starting."""
        with self._lock:
            self._closing = True
        for name in reversed(self._order):
            self._stop_quietly(name)
        # Starts in flight fail once their process is gone; then stop again whatever
        # one of them may have started in between.
        for thread in self._threads:
            thread.join(timeout=30)
        for name in reversed(self._order):
            self._stop_quietly(name)

    def _stop_quietly(self, name: str) -> None:
        entry = self._parts[name]
        try:
            entry.part.stop()
        except Exception as exc:  # noqa: BLE001 - stop the rest regardless
            self._log(f"stopping {name} failed: {exc}")
        with self._lock:
            entry.state = STOPPED

    # -- helpers -----------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _changed(self) -> None:
        if self._on_change is not None:
            with contextlib.suppress(Exception):
                self._on_change()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# --- the control socket --------------------------------------------------------------


class ControlServer:
    """Serves `Supervisor.snapshot` and `Supervisor.act` on a Unix socket."""

    def __init__(self, supervisor: Supervisor, path: Path) -> None:
        self.path = path
        sup = supervisor

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    request = json.loads(self.rfile.readline())
                    command = request["command"]
                    if command == "status":
                        answer: dict[str, Any] = {"parts": sup.snapshot()}
                    else:
                        answer = {"part": sup.act(command, request["part"])}
                except (ValueError, KeyError, TypeError) as exc:
                    answer = {"error": str(exc)}
                self.wfile.write(json.dumps(answer).encode() + b"\n")

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        path.parent.mkdir(parents=True, exist_ok=True)
        if len(str(path).encode()) > 100:
            raise StackError(f"{path} is too long for a Unix socket; use a shorter EDVENT_DATA_DIR")
        path.unlink(missing_ok=True)
        self._server = Server(str(path), Handler)
        path.chmod(0o600)  # only our user may restart parts
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


def request(path: Path, message: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Send one request to a running supervisor; raise OSError when none answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(message).encode() + b"\n")
        chunks: list[bytes] = []
        while not chunks or not chunks[-1].endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer: dict[str, Any] = json.loads(b"".join(chunks))
    return answer
