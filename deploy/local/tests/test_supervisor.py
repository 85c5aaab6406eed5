"""The supervisor with real child processes (small HTTP servers standing in for services).

The whole platform under supervision is tested in tests-e2e/test_supervision.py.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edvent_localstack.parts import ServicePart
from edvent_localstack.process import free_port
from edvent_localstack.supervisor import (
    FAILED,
    RUNNING,
    STOPPED,
    ControlServer,
    Supervisor,
    request,
)

# Answers 200 on every path, like a service's /readyz once it is up.
SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def server_part(name: str, tmp_path: Path) -> ServicePart:
    port = free_port()
    return ServicePart(
        name,
        [sys.executable, "-c", SERVER, str(port)],
        port,
        tmp_path / f"{name}.log",
        env=dict(os.environ),
        ready_timeout=20,
    )


def crashing_part(tmp_path: Path) -> ServicePart:
    # Prints one line per start, so the log counts the attempts.
    return ServicePart(
        "broken",
        [sys.executable, "-c", "print('starting', flush=True); raise SystemExit(3)"],
        free_port(),
        tmp_path / "broken.log",
        env=dict(os.environ),
        ready_timeout=20,
    )


def eventually(check: Callable[[], bool], *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def supervise() -> Iterator[Callable[[Supervisor], None]]:
    """Run a supervisor's loop in a thread; stop its parts at the end."""
    running: list[tuple[Supervisor, threading.Event]] = []

    def start(supervisor: Supervisor) -> None:
        done = threading.Event()

        def loop() -> None:
            while not done.is_set():
                supervisor.tick()
                time.sleep(0.05)

        threading.Thread(target=loop, daemon=True).start()
        running.append((supervisor, done))

    yield start
    for supervisor, done in running:
        done.set()
        supervisor.shutdown()


def started(supervisor: Supervisor, *parts: ServicePart) -> None:
    for part in parts:
        part.start()
        supervisor.launched(part.name)


def test_a_killed_part_is_restarted_and_counted_and_no_other_part_is_touched(
    tmp_path: Path, supervise: Callable[[Supervisor], None]
) -> None:
    victim, bystander = server_part("victim", tmp_path), server_part("bystander", tmp_path)
    logged: list[str] = []
    supervisor = Supervisor([victim, bystander], log=logged.append, first_backoff=0.1)
    started(supervisor, victim, bystander)
    supervise(supervisor)
    old_pid, bystander_pid = victim.pid, bystander.pid
    assert old_pid is not None

    os.kill(old_pid, signal.SIGKILL)

    eventually(lambda: victim.pid != old_pid and supervisor.status("victim")["state"] == RUNNING)
    row = supervisor.status("victim")
    assert row["restarts"] == 1
    assert row["health"] == "ok"
    assert supervisor.status("bystander")["restarts"] == 0
    assert bystander.pid == bystander_pid
    assert any("victim" in line and "restarting in" in line for line in logged), logged


def test_a_part_that_fails_at_start_is_left_failed_instead_of_restarted_forever(
    tmp_path: Path, supervise: Callable[[Supervisor], None]
) -> None:
    broken, healthy = crashing_part(tmp_path), server_part("healthy", tmp_path)
    supervisor = Supervisor(
        [broken, healthy], log=lambda _: None, first_backoff=0.05, crash_limit=5
    )
    started(supervisor, healthy)
    broken.launch()
    supervise(supervisor)
    with pytest.raises(Exception, match="exited with code 3"):
        broken.wait_ready()
    supervisor.failed_to_start("broken", "exited with code 3")

    eventually(lambda: supervisor.status("broken")["state"] == FAILED)
    time.sleep(1)  # long past the backoff it would have used: no sixth attempt
    row = supervisor.status("broken", probe=False)
    assert row["state"] == FAILED
    assert row["restarts"] == 4
    assert "5 crashes" in row["message"]
    assert broken.log_file.read_text().count("starting") == 5
    assert supervisor.status("healthy")["state"] == RUNNING

    # A deliberate start gives it its full allowance again: five more tries, then failed.
    assert supervisor.act("start", "broken")["state"] != RUNNING
    eventually(lambda: broken.log_file.read_text().count("starting") == 10)
    eventually(lambda: supervisor.status("broken", probe=False)["state"] == FAILED)
    time.sleep(1)
    assert broken.log_file.read_text().count("starting") == 10


def test_status_stop_and_start_over_the_control_socket(
    tmp_path: Path, supervise: Callable[[Supervisor], None]
) -> None:
    one, two = server_part("one", tmp_path), server_part("two", tmp_path)
    supervisor = Supervisor([one, two], log=lambda _: None)
    started(supervisor, one, two)
    supervise(supervisor)
    # A short path: Unix socket paths are limited to ~100 bytes.
    socket_path = Path(f"/tmp/edvent-test-{os.getpid()}.sock")
    control = ControlServer(supervisor, socket_path)
    control.start()
    try:
        status = request(socket_path, {"command": "status"}, timeout=10)
        assert [row["part"] for row in status["parts"]] == ["one", "two"]
        assert all(row["state"] == RUNNING and row["health"] == "ok" for row in status["parts"])
        assert status["parts"][0]["pid"] == one.pid
        assert status["parts"][0]["address"] == f"http://127.0.0.1:{one.port}"

        old_pid = one.pid
        stopped = request(socket_path, {"command": "stop", "part": "one"}, timeout=30)["part"]
        assert stopped["state"] == STOPPED
        assert stopped["pid"] is None
        time.sleep(0.5)  # the supervisor must not bring a stopped part back
        assert not one.running()
        assert supervisor.status("one")["state"] == STOPPED

        again = request(socket_path, {"command": "start", "part": "one"}, timeout=30)["part"]
        assert again["state"] == RUNNING
        assert again["pid"] not in (None, old_pid)
        assert again["restarts"] == 0  # a deliberate start is not a crash restart
        assert two.running()

        unknown = request(socket_path, {"command": "restart", "part": "nope"}, timeout=10)
        assert "unknown part" in unknown["error"]
    finally:
        control.close()
