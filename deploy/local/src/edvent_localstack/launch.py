"""The whole platform as `make dev` starts it (`edvent-stack up`), for the end-to-end
tests and the gateway benchmark: free ports, a data dir of the caller's."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from edvent_localstack.process import StackError, free_ports, log_tail
from edvent_localstack.services import SERVICES

PORTS = (
    "GATEWAY_PORT", "POSTGRES_PORT", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "S3_PORT",
    "IDENTITY_PORT", "CONTENT_PORT", "ASSESSMENT_PORT", "AI_NOTES_PORT",
    "MAILPIT_SMTP_PORT", "MAILPIT_HTTP_PORT",
    "JAEGER_OTLP_PORT", "JAEGER_UI_PORT", "JAEGER_GRPC_PORT",
    "LEARNING_RECORDS_PORT", "LRS_PORT",
)  # fmt: skip


@contextlib.contextmanager
def platform_up(
    work: Path, env: dict[str, str], *, timeout: float
) -> Iterator[tuple[int, dict[str, int]]]:
    """`edvent-stack up` with `env`, on free ports (PORTS) and `work` as its data
    dir; (its pid, the ports) once it printed its summary. SIGTERM at the end.

    With EDVENT_REPLICAS=N in `env`, the ports of the other replicas too
    (`IDENTITY_PORT_2`, …)."""
    replicas = int(env.get("EDVENT_REPLICAS", "1"))
    names = [*PORTS]
    names += [
        f"{service.env_prefix}PORT_{k}"
        for service in SERVICES.values()
        for k in range(2, replicas + 1)
    ]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    full_env = dict(
        os.environ, EDVENT_DATA_DIR=str(work), **env, **{k: str(v) for k, v in ports.items()}
    )
    log = work / "stack.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "edvent-stack"), "up"],
            env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def stop() -> None:
        # SIGTERM, not SIGKILL: every part runs in a session of its own, which only the
        # stack's own shutdown reaches (killing the stack alone leaves them running).
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

    deadline = time.monotonic() + timeout
    while "Gateway:" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            raise StackError(f"the platform did not start:\n{log_tail(log, 60)}")
        time.sleep(0.5)
    try:
        yield process.pid, ports
    finally:
        stop()
