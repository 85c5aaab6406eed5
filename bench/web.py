"""The web client's Lighthouse-style budgets, in Debian's Chromium through the gateway.

The platform starts as `make dev` starts it (edvent_localstack.launch.platform_up, 25
published courses from bench/gateway_load.py's seed), serving web/dist. Measured:

- JavaScript shipped for the first screen: the scripts a cold load of the catalogue
  (`/`) actually fetches, gzip -9 of their built files (what a server with static gzip
  sends; nginx's on-the-fly gzip at level 1 sends a little more);
- time to the catalogue on a cold load: a fresh browser context each time (empty HTTP
  cache, no session), from navigation start to the first course card on screen, read
  from the page's own clock (performance.now()).
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from bench import percentile
from bench.gateway_load import ADMIN_EMAIL, PASSWORD, seed
from edvent_localstack.launch import platform_up

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
CHROMIUM = os.environ.get("EDVENT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LOADS = 15
JS_BUDGET_KB = 60
TIME_BUDGET_MS = 1000


async def measure(gateway: str) -> tuple[list[tuple[str, int, int]], list[float]]:
    from playwright.async_api import async_playwright

    scripts: set[str] = set()
    times: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            for i in range(LOADS + 1):
                context = await browser.new_context(base_url=gateway)
                page = await context.new_page()
                page.on(
                    "request",
                    lambda r: (
                        scripts.add(urlparse(r.url).path) if r.resource_type == "script" else None
                    ),
                )
                await page.goto("/", wait_until="commit")
                shown = await page.wait_for_function(
                    "() => document.querySelector('ul.cards li') && performance.now()",
                    polling="raf",
                )
                if i > 0:  # the first load warms the gateway and services, not the browser
                    times.append(float(await shown.json_value()))
                await context.close()
        finally:
            await browser.close()
    sizes = []
    for path in sorted(scripts):
        data = (DIST / path.lstrip("/")).read_bytes()
        sizes.append((path, len(data), len(gzip.compress(data, compresslevel=9))))
    return sizes, sorted(times)


def run() -> str:
    if not Path(CHROMIUM).exists():
        return "## Web client\n\nSkipped: Chromium is missing (`apt-get install chromium`).\n"
    if not (DIST / "index.html").exists():
        return "## Web client\n\nSkipped: the client is not built (`make web`).\n"
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-web-"))
    env = {
        "IDENTITY_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "IDENTITY_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
    }
    with platform_up(work, env, timeout=240) as (_, ports):
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        seed(gateway)
        sizes, times = asyncio.run(measure(gateway))
    raw = sum(s[1] for s in sizes) / 1024
    zipped = sum(s[2] for s in sizes) / 1024
    p50, p90 = statistics.median(times), percentile(times, 90)
    files = "\n".join(f"| `{p}` | {r / 1024:.1f} KB | {z / 1024:.1f} KB |" for p, r, z in sizes)

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return f"""## Web client (web/, in Chromium through the gateway)

JavaScript the catalogue loads on a cold visit (other screens load theirs on demand):

| file | size | gzip -9 |
|---|---|---|
{files}
| total | {raw:.1f} KB | {zipped:.1f} KB |

Time to the catalogue on a cold load ({len(times)} loads, fresh context each, 25
courses): p50 {p50:.0f} ms, p90 {p90:.0f} ms, best {times[0]:.0f} ms, worst {times[-1]:.0f} ms.

Budgets: first-screen JavaScript ≤ {JS_BUDGET_KB} KB gzip ({verdict(zipped <= JS_BUDGET_KB)}),
catalogue p50 ≤ {TIME_BUDGET_MS} ms on a cold load ({verdict(p50 <= TIME_BUDGET_MS)}).
"""


if __name__ == "__main__":
    print(run())
