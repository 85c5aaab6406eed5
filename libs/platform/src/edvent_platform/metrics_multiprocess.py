"""/metrics when a service runs several uvicorn workers (`serve --workers N`).

Each worker is a process of its own with its own counters, and a scrape reaches only
the one that answers it. With more than one worker, `serve` gives the workers a shared
directory (prometheus_client's multiprocess mode, `PROMETHEUS_MULTIPROC_DIR`) before
they start: each writes its samples to memory-mapped files there, and any worker's
/metrics reads them all. Counters and histograms add up over the workers (a worker that
died keeps its part of the totals); each gauge declares how workers combine
(`multiprocess_mode`: a relay leader is `livemax`, a count of tasks `livesum`, a
timestamp `max`). "live" gauges of a worker that died are dropped at the next scrape.
The database pool figures (`edvent_platform.db`'s collector, computed at scrape time)
are not in the shared files: with several workers, read them per worker or from
PostgreSQL's `pg_stat_activity`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def prepare_workers(workers: int) -> Path | None:
    """Before uvicorn starts `workers` processes: a fresh, empty directory for their
    samples, named in the environment the workers inherit (None with one worker, or
    when the operator named one)."""
    if workers <= 1 or os.environ.get(DIRECTORY):
        return None
    path = Path(tempfile.mkdtemp(prefix="edvent-metrics-"))
    os.environ[DIRECTORY] = str(path)
    return path


def remove(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop(DIRECTORY, None)


def exposition() -> bytes:
    """The text /metrics answers: this process's registry, or every worker's."""
    directory = os.environ.get(DIRECTORY)
    if not directory:
        return generate_latest()
    forget_dead_workers(Path(directory))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def forget_dead_workers(directory: Path) -> None:
    """Drop the live-gauge files of workers that are gone (uvicorn replaces a worker
    without telling the others)."""
    for file in directory.glob("gauge_live*_*.db"):
        try:
            pid = int(file.stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
