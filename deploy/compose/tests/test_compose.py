"""docker-compose.yml is valid Compose and runs what `make dev` runs, pinned.

No Docker engine here, so the file is checked offline against the Compose
Specification's JSON Schema (deploy/compose/compose-spec.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "deploy" / "compose" / "compose-spec.json"
S3PROXY_POM = ROOT / "deploy" / "local" / "s3proxy" / "pom.xml"


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_every_image_is_pinned_to_a_versioned_tag() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        _, _, tag = image.rpartition(":")
        # A tag with a version number, never `latest` or a bare major like `pg18`.
        assert re.fullmatch(r"v?\d+(\.\d+)+([-.][\w.]+)?", tag), f"{name}: {image} is not pinned"


def test_s3_server_is_the_one_make_dev_runs() -> None:
    version = re.search(r"<s3proxy.version>([^<]+)</s3proxy.version>", S3PROXY_POM.read_text())
    assert version is not None
    images = [s.get("image", "") for s in _compose()["services"].values()]
    assert f"andrewgaul/s3proxy:{version.group(1)}" in images
    assert not [image for image in images if "minio" in image]
