"""Write each service's OpenAPI document (from `app.openapi()`, no server needed) to a dir.

Used by `npm run generate` (web/scripts/generate-api.mjs) so the client's types come
from the services' code and never drift.
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


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, module in SERVICES.items():
        app = importlib.import_module(module).create_app()
        document = app.openapi()
        (out / f"{name}.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
