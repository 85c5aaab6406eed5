"""The services as the local stack and the tests know them, and their commands."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edvent_localstack.process import StackError

# `nice` execs the command, so the process keeps the pid the stack supervises.
BACKGROUND_NICE = ("nice", "-n", "10")


@dataclass(frozen=True)
class Service:
    name: str  # as in `edvent-<name>` and the deploy layout
    schema: str  # also the name of its database role
    env_prefix: str  # of its settings, e.g. IDENTITY_
    default_port: int
    # Behind the gateway (a public HTTP API); learning-records has none.
    routed: bool = True
    # Work nobody waits on (learning-records forwards to the LRS and catches up after a
    # peak): locally it runs at a lower CPU priority, as a deployment would give it a
    # smaller CPU request, so an exam rush's requests get the two cores first.
    background: bool = False

    def argv(self, *args: str) -> list[str]:
        """The command line of `serve` and the like, niced for a background service."""
        command = [self.command(), *args]
        return [*BACKGROUND_NICE, *command] if self.background else command

    @property
    def upstream_variable(self) -> str:
        """The gateway template's ${…} for this service's address."""
        return f"{self.env_prefix}UPSTREAM"

    def command(self) -> str:
        command = Path(sys.executable).parent / f"edvent-{self.name}"
        if not command.exists():
            raise StackError(f"{command} is missing; run `uv sync` first")
        return str(command)

    def run(
        self, *args: str, database_url: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one of its commands (`migrate`, `create-admin`, …) against a database."""
        full_env = dict(env if env is not None else os.environ)
        full_env[f"{self.env_prefix}DATABASE_URL"] = database_url
        return subprocess.run(
            [self.command(), *args], env=full_env, capture_output=True, text=True, check=False
        )

    def migrate(self, database_url: str, env: dict[str, str] | None = None) -> None:
        result = self.run("migrate", database_url=database_url, env=env)
        if result.returncode != 0:
            raise StackError(f"migrations of {self.name} failed:\n{result.stdout}{result.stderr}")


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("identity", "identity", "IDENTITY_", 8001),
        Service("content", "content", "CONTENT_", 8002),
        Service("assessment", "assessment", "ASSESSMENT_", 8003),
        Service("ai-notes", "ai_notes", "AI_NOTES_", 8004),
        Service(
            "learning-records",
            "learning_records",
            "LEARNING_RECORDS_",
            8005,
            routed=False,
            background=True,
        ),
    )
}
