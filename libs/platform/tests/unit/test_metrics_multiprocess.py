"""/metrics with several workers: every worker's samples, combined as each metric says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from edvent_platform import metrics_multiprocess

# A worker: what a service process records, with the env `serve` gives its workers.
WORKER = textwrap.dedent(
    """
    import sys
    from edvent_events.relay import LEADER
    from edvent_platform.jobs import RUNS, TASKS
    leader = sys.argv[1] == "leader"
    RUNS.labels("svc", "sweeper", "ok").inc(3)
    LEADER.labels("svc").set(1 if leader else 0)
    TASKS.labels("svc").inc()
    print("ready", flush=True)
    if sys.argv[2] == "stay":
        sys.stdin.readline()
    """
)


def sample(text: str, name: str) -> float:
    (line,) = [line for line in text.splitlines() if line.startswith(name + "{")]
    return float(line.rsplit(" ", 1)[1])


def test_workers_add_up_and_a_dead_leader_is_forgotten(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(metrics_multiprocess.DIRECTORY, raising=False)
    directory = metrics_multiprocess.prepare_workers(2)
    assert directory is not None and os.environ[metrics_multiprocess.DIRECTORY] == str(directory)
    try:
        # The leader worker dies; the other keeps running.
        dead = subprocess.run(
            [sys.executable, "-c", WORKER, "leader", "exit"], capture_output=True, text=True
        )
        assert dead.returncode == 0, dead.stderr
        alive = subprocess.Popen(
            [sys.executable, "-c", WORKER, "standby", "stay"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert alive.stdout is not None and alive.stdout.readline() == "ready\n"
            text = metrics_multiprocess.exposition().decode()
        finally:
            alive.communicate("\n", timeout=30)
    finally:
        metrics_multiprocess.remove(directory)
    # Both workers' runs count; the dead one's leadership and task do not.
    assert sample(text, "edvent_job_runs_total") == 6
    assert sample(text, "outbox_relay_leader") == 0
    assert sample(text, "edvent_job_tasks_in_flight") == 1
    assert not directory.exists()
    assert metrics_multiprocess.DIRECTORY not in os.environ


def test_one_worker_keeps_the_plain_registry(monkeypatch) -> None:
    monkeypatch.delenv(metrics_multiprocess.DIRECTORY, raising=False)
    assert metrics_multiprocess.prepare_workers(1) is None
    assert b"python_info" in metrics_multiprocess.exposition()
