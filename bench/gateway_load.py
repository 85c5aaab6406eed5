"""The platform under load through its gateway, measured with wrk (Debian's `wrk`).

The whole platform starts as `make dev` starts it (`edvent-stack up`, temporary data
dir, free ports). Measured in one run, on the same machine as the platform:

- `GET /api/v1/courses?limit=20` (20 published courses) at full speed, through the
  gateway and straight to content's port, alternated: requests/s and the overhead;
- the same at a fixed 300 req/s: p50/p99. Debian has no wrk2, so the rate is set with
  wrk's Lua `delay()` per connection: a paced closed loop, which under-reports latency
  once answers take longer than the pacing interval (here 100 ms, the p99 target);
- that paced load again while 50 connections log in without pause for 30 s (Argon2
  on the same 2 cores): p99 of the course list and what the logins got.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from edvent_localstack.launch import platform_up

ADMIN_EMAIL = "bench-admin@example.com"
PASSWORD = "bench admin password"  # noqa: S105 (a throwaway local stack)
RATE = 300
PACED_CONNECTIONS = 30
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def seed(gateway: str) -> str:
    """25 published courses; returns the body of a login that succeeds."""
    with httpx.Client(base_url=gateway, timeout=30) as http:

        def login(email: str, password: str) -> dict[str, str]:
            answer = http.post("/api/v1/auth/login", json={"email": email, "password": password})
            answer.raise_for_status()
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        email = f"bench.{secrets.token_hex(4)}@example.com"
        user = http.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "B"}
        )
        user.raise_for_status()
        promoted = http.patch(
            f"/api/v1/users/{user.json()['id']}",
            json={"role": "INSTRUCTOR"},
            headers=login(ADMIN_EMAIL, PASSWORD),
        )
        promoted.raise_for_status()
        auth = login(email, PASSWORD)
        for i in range(25):
            course = http.post("/api/v1/courses", json={"title": f"Course {i}"}, headers=auth)
            course.raise_for_status()
            http.post(f"/api/v1/courses/{course.json()['id']}/publish", headers=auth)
        listed = http.get("/api/v1/courses", params={"limit": 20})
        assert len(listed.json()["items"]) == 20, listed.text
    return f'{{"email": "{email}", "password": "{PASSWORD}"}}'


def wrk(url: str, *, seconds: int, connections: int, script: Path | None = None) -> str:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    result = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    return result.stdout


def wrk_start(url: str, *, seconds: int, connections: int, script: Path) -> subprocess.Popen[str]:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    return subprocess.Popen([*args, url], stdout=subprocess.PIPE, text=True)


def figures(output: str) -> dict[str, float]:
    """Requests/s, p50/p99 (ms) and non-2xx/3xx answers and socket errors from wrk."""

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        assert match, output
        return float(match.group(1)) * UNITS[match.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    assert rate and total, output
    return {
        "rps": float(rate.group(1)),
        "requests": float(total.group(1)),
        "p50": ms("50"),
        "p99": ms("99"),
        "bad": float(bad.group(1)) if bad else 0.0,
        "errors": float(sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0),
    }


def run() -> str:
    if shutil.which("wrk") is None:
        return "## Gateway load\n\nSkipped: `wrk` is missing (`apt-get install wrk`).\n"
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-gateway-"))
    env = {
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
        # The storm must reach identity's hashing, not stop at the gateway's limit.
        "GATEWAY_LOGIN_RATE": "100000r/m",
        "GATEWAY_LOGIN_BURST": "10000",
    }
    with platform_up(work, env, timeout=240) as (_, ports):
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        direct = f"http://127.0.0.1:{ports['CONTENT_PORT']}"
        login_body = seed(gateway)
        paced = work / "paced.lua"
        paced.write_text(f"function delay() return {1000 * PACED_CONNECTIONS // RATE} end\n")
        login = work / "login.lua"
        login.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [[{login_body}]]\n"
        )
        path = "/api/v1/courses?limit=20"
        wrk(gateway + path, seconds=3, connections=16)  # warm-up
        full: dict[str, list[dict[str, float]]] = {"gateway": [], "direct": []}
        for _ in range(2):
            for name, base in (("direct", direct), ("gateway", gateway)):
                full[name].append(figures(wrk(base + path, seconds=10, connections=16)))
        fixed = {
            name: figures(wrk(base + path, seconds=15, connections=PACED_CONNECTIONS, script=paced))
            for name, base in (("direct", direct), ("gateway", gateway))
        }
        storm = wrk_start(gateway + "/api/v1/auth/login", seconds=30, connections=50, script=login)
        under_storm = figures(
            wrk(gateway + path, seconds=30, connections=PACED_CONNECTIONS, script=paced)
        )
        storm_out, _ = storm.communicate(timeout=120)
        logins = figures(storm_out)
    best = {name: max(runs, key=lambda r: r["rps"]) for name, runs in full.items()}
    overhead = 1 - best["gateway"]["rps"] / best["direct"]["rps"]
    fixed_overhead = fixed["gateway"]["p50"] - fixed["direct"]["p50"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "missed"

    rows = [
        f"| full speed, 16 connections | {r['rps']:,.0f} req/s | {r['p50']:.1f} ms | "
        f"{r['p99']:.1f} ms | {name} |"
        for name, runs in full.items()
        for r in runs
    ]
    rows += [
        f"| paced {RATE} req/s | {r['rps']:,.0f} req/s | {r['p50']:.1f} ms | {r['p99']:.1f} ms "
        f"| {name} |"
        for name, r in fixed.items()
    ]
    rows.append(
        f"| paced {RATE} req/s, 50 logins storming | {under_storm['rps']:,.0f} req/s | "
        f"{under_storm['p50']:.1f} ms | {under_storm['p99']:.1f} ms | gateway |"
    )
    return "\n".join(
        [
            "## Gateway load (wrk)",
            "",
            f"{platform.machine()}, {os.cpu_count()} cores shared by the whole platform and "
            "wrk; `edvent-stack up` as `make dev` runs it; `GET /api/v1/courses?limit=20` "
            "(20 published courses). The fixed rate is wrk's Lua `delay()` per connection "
            f"({PACED_CONNECTIONS} connections; Debian has no wrk2): a paced closed loop.",
            "",
            "| load | achieved | p50 | p99 | to |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Gateway overhead: {overhead:.0%} of requests/s at full speed (best of 2 runs "
            f"each), {fixed_overhead:+.1f} ms at p50 at {RATE} req/s.",
            f"Login storm: {logins['requests']:,.0f} logins in 30 s "
            f"({logins['rps']:,.1f}/s), {logins['bad']:,.0f} not 2xx, "
            f"{logins['errors']:,.0f} socket errors.",
            "",
            f"Targets: ≥ 1,000 req/s through the gateway "
            f"({verdict(best['gateway']['rps'] >= 1000)}), p99 ≤ 100 ms at {RATE} req/s "
            f"({verdict(fixed['gateway']['p99'] <= 100)}), overhead ≤ 15% "
            f"({verdict(overhead <= 0.15)}), p99 ≤ 200 ms during the login storm "
            f"({verdict(under_storm['p99'] <= 200)}).",
            "",
        ]
    )


if __name__ == "__main__":
    sys.stdout.write(run())
