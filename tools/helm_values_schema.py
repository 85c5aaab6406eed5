"""Each chart's values.schema.json, derived from its values.yaml.

Helm checks the values against the chart's `values.schema.json` on install, upgrade,
template and lint, so a misspelt top-level key or a number where a list belongs fails
before anything reaches a cluster. The schema follows the defaults' shapes: each value
keeps the type its default has (null defaults accept anything), and the top level and
every object whose keys the chart itself defines refuse unknown keys. Maps that users
fill with their own keys (environment variables, labels, annotations, resources) stay
open.

    uv run python tools/helm_values_schema.py          # rewrite the files
    uv run python tools/helm_values_schema.py --check  # fail when one is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HELM_DIR = Path(__file__).resolve().parents[1] / "deploy" / "helm"
# Keys whose values are maps of the user's own keys (or free-form Kubernetes objects).
OPEN_MAPS = frozenset(
    {
        "config",
        "env",
        "extraEnv",
        "labels",
        "annotations",
        "podAnnotations",
        "podLabels",
        "nodeSelector",
        "resources",
        "securityContext",
        "podSecurityContext",
        "affinity",
        "stringData",
        "upstreams",
        "rateLimits",
        "topicConfig",
        "values",
    }
)


def _type(name: str) -> dict[str, Any]:
    # null too: Helm's way to drop a default (`--set networkPolicy.egress.s3=null`).
    return {"type": [name, "null"]}


def schema_for(value: Any, *, key: str = "") -> dict[str, Any]:
    if isinstance(value, bool):
        return _type("boolean")
    if isinstance(value, int):
        return {"type": ["number", "null"]}  # a YAML integer may be written as 1.0
    if isinstance(value, float):
        return _type("number")
    if isinstance(value, str):
        return _type("string")
    if isinstance(value, list):
        return _type("array")
    if isinstance(value, dict):
        if key in OPEN_MAPS:
            return _type("object")
        return {
            **_type("object"),
            "additionalProperties": False,
            "properties": {k: schema_for(v, key=k) for k, v in value.items()},
        }
    return {}  # null: the chart leaves it to the user (a Secret name, a host)


def chart_schema(chart: Path) -> dict[str, Any]:
    values = yaml.safe_load((chart / "values.yaml").read_text()) or {}
    schema = schema_for(values)
    # The top level is an object; Helm adds `global` and the library chart's own key.
    schema["type"] = "object"
    schema["properties"] |= {"global": {"type": "object"}, "edvent-lib": {"type": "object"}}
    return {
        "$schema": "https://json-schema.org/draft-07/schema#",
        "title": f"Values of the {chart.name} chart (tools/helm_values_schema.py)",
        **schema,
    }


def charts() -> list[Path]:
    return sorted(
        path.parent
        for path in HELM_DIR.glob("*/Chart.yaml")
        if yaml.safe_load(path.read_text()).get("type") != "library"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    stale = []
    for chart in charts():
        text = json.dumps(chart_schema(chart), indent=2) + "\n"
        target = chart / "values.schema.json"
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target))
        else:
            target.write_text(text)
    if stale:
        print("stale (run tools/helm_values_schema.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
