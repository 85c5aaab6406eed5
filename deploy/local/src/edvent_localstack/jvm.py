"""Java programs of the stack (Kafka, S3Proxy): their jars from Maven, and `java`."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from edvent_localstack.process import CACHE_DIR, StackError

JARS_DIR = CACHE_DIR / "jars"
# Written last into a jars directory; holds the hash of the pom the jars came from.
_MARKER = ".pom-sha256"


def java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise StackError("Java 17 or newer is needed; no `java` on PATH or in JAVA_HOME")
    return found


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (dev stack and test sessions share .cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _complete(directory: Path, pom_hash: str, main_jar: str) -> bool:
    try:
        marker = (directory / _MARKER).read_text().strip()
    except FileNotFoundError:
        return False
    return marker == pom_hash and any(directory.glob(main_jar))


def ensure_jars(name: str, pom: Path, *, main_jar: str) -> Path:
    """Copy the dependencies of `pom` from Maven into .cache/jars/<name>, once per pom.

    The jars go into a fresh directory that replaces the old one only when the copy
    succeeded, so a version bump never leaves two versions on the classpath and an
    interrupted copy is never taken for a complete one. `main_jar` is a glob that a
    complete copy must match.
    """
    target = JARS_DIR / name
    pom_hash = hashlib.sha256(pom.read_bytes()).hexdigest()
    if _complete(target, pom_hash, main_jar):
        return target
    with _file_lock(JARS_DIR / f"{name}.lock"):
        if _complete(target, pom_hash, main_jar):  # another process just did it
            return target
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(
                f"Maven (`mvn`) is needed once to fetch the {name} jars from Maven Central; "
                "install it (e.g. `apt-get install maven`) and try again"
            )
        staging = JARS_DIR / f"{name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        argv = [
            mvn, "-B", "-q",
            # Debian's mvn colours even in batch mode; the output may end in an error.
            "-Dstyle.color=never",
            "-f", str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
            "-DincludeScope=runtime",
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not any(staging.glob(main_jar)):
            shutil.rmtree(staging, ignore_errors=True)
            output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
            raise StackError(
                f"fetching the {name} jars failed (exit code {result.returncode}); Maven "
                f"Central must be reachable once. Ran:\n  {' '.join(argv)}\n{output}"
            )
        (staging / _MARKER).write_text(pom_hash + "\n")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
