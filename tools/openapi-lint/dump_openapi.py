"""Write each service's OpenAPI document to out/<service>.json, for the linter.

Built from the app factories, as the services serve them (no server is started).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

SERVICES = {
    "identity": "edvent_identity.main",
    "content": "edvent_content.main",
    "assessment": "edvent_assessment.main",
    "ai-notes": "edvent_ai_notes.main",
}


def main() -> int:
    out = Path(__file__).with_name("out")
    out.mkdir(exist_ok=True)
    for service, module in SERVICES.items():
        document = importlib.import_module(module).create_app().openapi()
        (out / f"{service}.json").write_text(json.dumps(document, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
