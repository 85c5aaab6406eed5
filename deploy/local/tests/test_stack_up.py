"""`edvent-stack up` (what `make dev` runs) with small stand-in processes for the parts:
the status table it prints, and its exit code and message when a part does not come up.

The real parts are started the same way by tests-e2e (edvent_localstack.launch).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edvent_localstack import cli
from edvent_localstack.launch import PORTS
from edvent_localstack.parts import ServerPart, ServicePart, http_ok, port_open
from edvent_localstack.process import ManagedProcess, free_port

# Answers 200 on every path, like a service's /readyz or the gateway's /healthz.
SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class StandIn:
    """Infrastructure or the gateway: a process that is ready once its port answers."""

    def __init__(self, name: str, port: int, log_file: Path) -> None:
        self.port = port
        self._process = ManagedProcess(name, [sys.executable, "-c", SERVER, str(port)], log_file)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> None:
        self._process.start()
        self._process.wait_ready(functools.partial(port_open, self.port), timeout=20)

    def stop(self) -> None:
        self._process.stop()

    def running(self) -> bool:
        return self._process.running()


def server_part(name: str, logs: Path) -> ServerPart:
    port = free_port()
    return ServerPart(
        name,
        StandIn(name, port, logs / f"{name}.log"),
        f"127.0.0.1:{port}",
        functools.partial(port_open, port),
        log_file=logs / f"{name}.log",
    )


def service_part(name: str, logs: Path, argv: list[str] | None = None) -> ServicePart:
    port = free_port()
    return ServicePart(
        name,
        argv or [sys.executable, "-c", SERVER, str(port)],
        port,
        logs / f"{name}.log",
        env=dict(os.environ),
        ready_timeout=20,
    )


def layout(logs: Path, *, broken: bool) -> cli.Layout:
    services = [service_part("alpha", logs), service_part("beta", logs)]
    if broken:
        services.append(
            service_part(
                "broken",
                logs,
                [
                    sys.executable,
                    "-c",
                    "print('broken: no database at 127.0.0.1:1', flush=True); raise SystemExit(3)",
                ],
            )
        )
    return cli.Layout(
        infra=[server_part("postgres", logs), server_part("kafka", logs)],
        services=services,
        gateway=server_part("gateway", logs),
    )


@pytest.fixture
def stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data dir and free ports for the real parts `up` checks before starting; the
    signal handlers `up` installs are put back afterwards."""
    monkeypatch.setenv("EDVENT_DATA_DIR", str(tmp_path / "data"))
    for name in PORTS:
        monkeypatch.setenv(name, str(free_port()))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield tmp_path / "logs"
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_up_lists_every_part_with_its_address_and_health(
    stack_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = layout(stack_env, broken=False)
    stack = cli.Stack(cli.StackConfig.from_env())
    try:
        stack.up(parts)
        out = capsys.readouterr().out
    finally:
        stack.down()
    table = out[out.index("PART") :].split("\n\n")[0].splitlines()
    assert table[0].split() == ["PART", "ADDRESS", "HEALTH"]
    rows = {line.split()[0]: line.split()[1:] for line in table[1:]}
    every = [*parts.infra, *parts.services, parts.gateway]
    assert list(rows) == [part.name for part in every]
    for part in every:
        assert rows[part.name] == [part.address, "healthy"]
    assert f"Gateway: {parts.gateway.address}" in out
    # down() stopped what up() started.
    assert not any(http_ok(f"{part.address}/readyz") for part in parts.services)


def test_up_exits_non_zero_with_the_log_tail_of_a_part_that_does_not_come_up(
    stack_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = layout(stack_env, broken=True)

    code = cli.up(lambda _stack: parts)

    out, err = capsys.readouterr()
    assert code == 1
    assert "broken did not come up" in err
    assert f"last lines of {stack_env / 'broken.log'}" in err
    assert "broken: no database at 127.0.0.1:1" in err  # the part's own words
    # The table says which part is down; the gateway was never started.
    rows = {line.split()[0]: line for line in out[out.index("PART") :].splitlines()[1:] if line}
    assert "NOT HEALTHY" in rows["broken"] and "NOT HEALTHY" in rows["gateway"]
    assert rows["alpha"].endswith("healthy") and "NOT" not in rows["alpha"]
    assert "Gateway:" not in out
    # Nothing is left running.
    assert not any(part.running() for part in [*parts.infra, *parts.services, parts.gateway])
