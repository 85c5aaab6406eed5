"""Two replicas of everything (`EDVENT_REPLICAS=2`): the p99 through the gateway before,
during and after one replica of each service is SIGKILLed.

The whole platform as `make dev` starts it at two replicas (temporary data dir, free
ports). vegeta sends a fixed RATE req/s, open loop, spread over three reads that reach
three services: the anonymous course list (content), the caller's account (identity,
with a token) and the signed-in course list (content, read afresh). Three windows of
WINDOW seconds: before; during, with the kill 2 s in (the replica of each service that
leads its outbox relay, as the drill in tests-e2e/test_replicas.py kills); after, once
the supervisor has every part healthy again. The machine is shared: other runs on it
show up in these figures.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.gateway_load import ADMIN_EMAIL, PASSWORD, seed, vegeta, vegeta_attack
from edvent_localstack.launch import platform_up
from edvent_localstack.services import SERVICES

RATE = 40
WINDOW = 15
KILL_AFTER = 2.0


def attack(tool: str, targets: Path, *, seconds: int, work: Path, name: str) -> dict[str, Any]:
    return vegeta_attack(tool, targets, rate=RATE, seconds=seconds, results=work / f"{name}.bin")


def figures(report: dict[str, Any]) -> dict[str, Any]:
    latencies = report["latencies"]
    return {
        "p50": latencies["50th"] / 1e6,
        "p99": latencies["99th"] / 1e6,
        "max": latencies["max"] / 1e6,
        "requests": report["requests"],
        "success": report["success"],
        "codes": report.get("status_codes", {}),
    }


def stack_parts(work: Path) -> dict[str, dict[str, Any]]:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "edvent-stack"), "status", "--json"],
        env=dict(os.environ, EDVENT_DATA_DIR=str(work)),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return {row["part"]: row for row in json.loads(result.stdout)}


def relay_leaders(ports: dict[str, int]) -> dict[str, str]:
    """Per service, the part whose relay leads (outbox_relay_leader 1 on its /metrics)."""
    leaders = {}
    for service in SERVICES.values():
        for name, variable in ((service.name, f"{service.env_prefix}PORT"),
                               (f"{service.name}-2", f"{service.env_prefix}PORT_2")):  # fmt: skip
            text = httpx.get(f"http://127.0.0.1:{ports[variable]}/metrics", timeout=5).text
            if re.search(r"^outbox_relay_leader\{[^}]*\} 1\.0$", text, re.MULTILINE):
                leaders[service.name] = name
    return leaders


def all_healthy(work: Path, timeout: float = 180) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if all(
            row["state"] == "running" and row["health"] == "ok"
            for row in stack_parts(work).values()
        ):
            return time.monotonic() - start
        time.sleep(0.5)
    raise RuntimeError("the platform did not recover")


def run() -> str:
    tool = vegeta()
    if tool is None:
        return (
            "## Two replicas, one killed\n\nSkipped: vegeta is missing (`make bench` builds it).\n"
        )
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-replicas-"))
    env = {
        "EDVENT_REPLICAS": "2",
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    }
    with platform_up(work, env, timeout=400) as (_, ports):
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        login = httpx.post(
            f"{gateway}/api/v1/auth/login", json=json.loads(seed(gateway)), timeout=30
        )
        login.raise_for_status()
        auth = f"Authorization: Bearer {login.json()['access_token']}"
        targets = work / "targets.txt"
        targets.write_text(
            f"GET {gateway}/api/v1/courses?limit=20\n\n"
            f"GET {gateway}/api/v1/users/me\n{auth}\n\n"
            f"GET {gateway}/api/v1/courses?limit=20\n{auth}\n\n"
        )
        attack(tool, targets, seconds=3, work=work, name="warm-up")
        before = figures(attack(tool, targets, seconds=WINDOW, work=work, name="before"))
        leaders = relay_leaders(ports)
        pids = {name: row["pid"] for name, row in stack_parts(work).items()}

        def kill() -> None:
            time.sleep(KILL_AFTER)
            for name in leaders.values():
                os.kill(pids[name], signal.SIGKILL)

        killer = threading.Thread(target=kill)
        killer.start()
        during = figures(attack(tool, targets, seconds=WINDOW, work=work, name="during"))
        killer.join()
        recovered = all_healthy(work)
        after = figures(attack(tool, targets, seconds=WINDOW, work=work, name="after"))
        load = os.getloadavg()[0]
    return report(before, during, after, sorted(leaders.values()), recovered, load)


def report(
    before: dict[str, Any],
    during: dict[str, Any],
    after: dict[str, Any],
    killed: list[str],
    recovered: float,
    load: float,
) -> str:
    def row(name: str, f: dict[str, Any]) -> str:
        failed = {code: n for code, n in f["codes"].items() if not code.startswith("2")}
        return (
            f"| {name} | {f['p50']:.1f} ms | {f['p99']:.1f} ms | {f['max']:.0f} ms | "
            f"{f['requests']:,} | {f['success']:.2%} | {failed or '-'} |"
        )

    return "\n".join(
        [
            "## Two replicas of everything, one of each killed (vegeta through the gateway)",
            "",
            f"`EDVENT_REPLICAS=2`; a fixed {RATE} req/s over three reads (anonymous course "
            f"list, `users/me`, signed-in course list), {WINDOW} s windows. During: "
            f"SIGKILL {KILL_AFTER:.0f} s in to {', '.join(killed)} (each service's relay "
            f"leader); every part healthy again {recovered:.0f} s after the window. Load "
            f"average at the end {load:.1f} (2 cores, shared with other engineers' runs).",
            "",
            "| window | p50 | p99 | max | requests | 2xx | other answers (code: count) |",
            "|---|---|---|---|---|---|---|",
            row("before", before),
            row("during (kill)", during),
            row("after", after),
            "",
            "Status code 0 is vegeta's own: no answer (a connection the killed process held).",
            "",
        ]
    )
