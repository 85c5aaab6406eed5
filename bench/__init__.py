"""The benchmarks of `make bench`; shared helpers below."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import psutil


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile of already sorted values (nearest rank, no interpolation)."""
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


SERVICE_PARTS = ("identity", "content", "assessment", "ai-notes", "learning-records")


def process_label(name: str, cmdline: list[str]) -> str:
    """Which part of the platform a process is, for CPU accounting: `assessment`,
    `postgres`, `kafka`, ... (`other` for the rest of the machine)."""
    words = " ".join(cmdline)
    for part in SERVICE_PARTS:
        if f"edvent-{part}" in words:
            return part
    if "kafka" in words and "java" in name:
        return "kafka"
    if name in ("wrk", "vegeta"):
        return "load tool"
    for part in ("postgres", "nginx", "jaeger", "mailpit", "ralph", "pgbench"):
        if part in name or part in words[:200]:
            return part
    return "other"


class CpuMeter:
    """CPU seconds each part of the machine used between `start()` and `stop()`, read
    from every process's own counters (psutil): the profile of a whole platform, so a
    benchmark can say which process the cores went to. With `platform_pid` (the
    `edvent-stack up` process), its descendants are labelled by part and every other
    process is `elsewhere on the machine`; the benchmark's own process is `bench client`, wrk and
    vegeta are `load tool`."""

    def __init__(self, platform_pid: int | None = None) -> None:
        self._platform_pid = platform_pid
        self._before: dict[int, tuple[str, float]] = {}
        self.seconds: dict[str, float] = {}
        self.wall = 0.0

    def _snapshot(self) -> dict[int, tuple[str, float]]:
        own = os.getpid()
        platform: set[int] | None = None
        if self._platform_pid is not None:
            try:
                root = psutil.Process(self._platform_pid)
                platform = {self._platform_pid, *(p.pid for p in root.children(recursive=True))}
            except psutil.NoSuchProcess:
                platform = set()
        found: dict[int, tuple[str, float]] = {}
        processes = [
            (process, process.info)
            for process in psutil.process_iter(["name", "cmdline", "cpu_times", "ppid"])
        ]
        labels = {
            process.pid: process_label(info.get("name") or "", info.get("cmdline") or [])
            for process, info in processes
        }
        for process, info in processes:
            times = info.get("cpu_times")
            if times is None:
                continue
            label = labels[process.pid]
            if label == "other" and labels.get(info.get("ppid") or 0) in SERVICE_PARTS:
                # A service's `serve --workers` processes (multiprocessing's spawn).
                label = labels[info["ppid"]]
            if process.pid == own:
                label = "bench client"
            elif platform is not None and process.pid not in platform and label != "load tool":
                label = "elsewhere on the machine"
            found[process.pid] = (label, times.user + times.system)
        return found

    def start(self) -> None:
        self._before = self._snapshot()
        self._began = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._began
        seconds: dict[str, float] = {}
        for pid, (label, used) in self._snapshot().items():
            earlier = self._before.get(pid, (label, 0.0))[1]
            seconds[label] = seconds.get(label, 0.0) + max(0.0, used - earlier)
        self.seconds = dict(sorted(seconds.items(), key=lambda item: -item[1]))

    def table(self, *, per: int, unit: str) -> list[str]:
        """Markdown rows: each part's CPU seconds, its share of the cores over the
        window, and milliseconds of CPU per `unit` (`per` of them in the window)."""
        cores = os.cpu_count() or 1
        rows = [
            f"| part | CPU s in {self.wall:.1f} s | share of {cores} cores | CPU ms per {unit} |",
            "|---|---|---|---|",
        ]
        for label, used in self.seconds.items():
            if used < 0.05:
                continue
            rows.append(
                f"| {label} | {used:.2f} | {used / (self.wall * cores):.0%} | "
                f"{used * 1000 / max(per, 1):.1f} |"
            )
        return rows


def pid_on_port(port: int) -> int | None:
    """The process listening on a local port (`ss`), for py-spy."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    found = re.search(r"pid=(\d+)", out.stdout)
    return int(found.group(1)) if found else None


def profile_dir(variable: str) -> Path | None:
    """The folder the environment variable names for py-spy's profiles, made if
    missing; None when it is unset (no profiling)."""
    value = os.environ.get(variable)
    if not value:
        return None
    folder = Path(value).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def profiler(pid: int | None, out: Path | None, seconds: int) -> subprocess.Popen[bytes] | None:
    """py-spy recording `pid` and its children (a service's `--workers` processes) for
    `seconds` into `out` (none without all three)."""
    if pid is None or out is None or shutil.which("py-spy") is None:
        return None
    # flamegraph (an SVG) by default; BENCH_PROFILE_FORMAT=raw for collapsed stacks.
    form = os.environ.get("BENCH_PROFILE_FORMAT", "flamegraph")
    return subprocess.Popen(
        ["py-spy", "record", "-p", str(pid), "--subprocesses", "-d", str(seconds), "-r", "200",
         "-f", form, "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
