"""The service's commands besides migrate and serve."""

from __future__ import annotations

from edvent_assessment.cli import main


def test_simulate_prints_the_report(capsys) -> None:
    main(["simulate", "--students", "20", "--bank", "40", "--model", "2pl", "--seed", "1"])
    out = capsys.readouterr().out
    assert "## adaptive exams (simulation, 2pl)" in out
    assert "| adaptive |" in out and "Item exposure" in out
