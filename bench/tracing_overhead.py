"""What tracing costs through the gateway: the same load on two platforms, one run.

Two platforms start side by side as `make dev` starts them: one with tracing off
(`EDVENT_TRACING=off`: no provider, no instrumentation), one exporting every span
to its Jaeger (the sampler keeps all of them: the worst case). Each gets the gateway
benchmark's list (`GET /api/v1/courses?limit=20`), anonymous (content answers from its
cache: the server span is all there is to trace) and signed in (read afresh: SQL
spans too), in alternating wrk rounds so both see the same machine, then a fixed
300 req/s (vegeta, open loop) for the latency. The idle platform costs the measured
one a little memory, nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.gateway_load import (
    ADMIN_EMAIL,
    CONNECTIONS,
    PASSWORD,
    PATH,
    RATE,
    paced,
    paced_figures,
    seed,
    vegeta,
    wrk,
    wrk_figures,
)
from edvent_localstack.launch import platform_up

ROUNDS = 4
SECONDS = 10
MODES = ("off", "on")


def run() -> str:
    tool = vegeta()
    if tool is None:
        return "## Tracing overhead\n\nSkipped: vegeta is missing (`make bench` builds it).\n"
    env = {
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    }
    modes = {
        "off": {"EDVENT_TRACING": "off"},
        "on": {"EDVENT_TRACING": "on", "OTEL_TRACES_SAMPLER": "parentbased_always_on"},
    }
    loads: list[float] = []
    with contextlib.ExitStack() as stack:
        gateways: dict[str, str] = {}
        auth: dict[str, tuple[str, ...]] = {}
        for mode in MODES:
            work = Path(tempfile.mkdtemp(prefix=f"edvent-bench-tracing-{mode}-"))
            _, ports = stack.enter_context(platform_up(work, env | modes[mode], timeout=600))
            gateways[mode] = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        for mode, gateway in gateways.items():
            login_body = seed(gateway)
            login = httpx.post(
                f"{gateway}/api/v1/auth/login", json=json.loads(login_body), timeout=30
            )
            login.raise_for_status()
            auth[mode] = (f"Authorization: Bearer {login.json()['access_token']}",)
            wrk(gateway + PATH, seconds=3, connections=CONNECTIONS)  # warm-up
            wrk(gateway + PATH, seconds=3, connections=CONNECTIONS, headers=auth[mode])
        rounds: dict[str, dict[str, list[dict[str, float]]]] = {
            kind: {mode: [] for mode in MODES} for kind in ("anonymous", "signed in")
        }
        for round_ in range(ROUNDS):
            order = list(MODES) if round_ % 2 == 0 else list(reversed(MODES))
            for mode in order:
                rounds["anonymous"][mode].append(
                    wrk_figures(
                        wrk(gateways[mode] + PATH, seconds=SECONDS, connections=CONNECTIONS)
                    )
                )
                rounds["signed in"][mode].append(
                    wrk_figures(
                        wrk(
                            gateways[mode] + PATH,
                            seconds=SECONDS,
                            connections=CONNECTIONS,
                            headers=auth[mode],
                        )
                    )
                )
            loads.append(os.getloadavg()[0])
        work = Path(tempfile.mkdtemp(prefix="edvent-bench-tracing-paced-"))
        fixed = {
            mode: paced_figures(paced(tool, gateways[mode] + PATH, seconds=15, work=work))
            for mode in MODES
        }
        loads.append(os.getloadavg()[0])
    return report(rounds, fixed, loads)


def report(
    rounds: dict[str, dict[str, list[dict[str, float]]]],
    fixed: dict[str, dict[str, float]],
    loads: list[float],
) -> str:
    lines = [
        "## Tracing overhead through the gateway (wrk, vegeta)",
        "",
        "Two platforms side by side, tracing off and on (every span exported to the",
        f"local Jaeger); `GET {PATH}`, {CONNECTIONS} connections, {ROUNDS} alternating",
        f"rounds of {SECONDS} s each; median requests/s and p99 of the rounds.",
        "",
        "| load | off: req/s | on: req/s | on / off | off: p99 | on: p99 |",
        "|---|---|---|---|---|---|",
    ]
    for kind, by_mode in rounds.items():
        rps = {m: statistics.median(r["rps"] for r in by_mode[m]) for m in MODES}
        p99 = {m: statistics.median(r["p99"] for r in by_mode[m]) for m in MODES}
        lines.append(
            f"| {kind} | {rps['off']:.0f} | {rps['on']:.0f} | {rps['on'] / rps['off']:.2f} "
            f"| {p99['off']:.1f} ms | {p99['on']:.1f} ms |"
        )
    lines += [
        "",
        f"At a fixed {RATE} req/s (anonymous, vegeta, 15 s each): off p50 "
        f"{fixed['off']['p50']:.1f} ms, p99 {fixed['off']['p99']:.1f} ms; on p50 "
        f"{fixed['on']['p50']:.1f} ms, p99 {fixed['on']['p99']:.1f} ms (success "
        f"{fixed['off']['success']:.0%} / {fixed['on']['success']:.0%}).",
        "",
        "Rounds (req/s):",
    ]
    for kind, by_mode in rounds.items():
        for mode in MODES:
            lines.append(
                f"- {kind}, {mode}: " + ", ".join(f"{r['rps']:.0f}" for r in by_mode[mode])
            )
    lines += [
        "",
        "Load average (1 min) during the rounds: "
        + ", ".join(f"{load:.1f}" for load in loads)
        + f" on {os.cpu_count()} cores.",
        "",
    ]
    return "\n".join(lines)
