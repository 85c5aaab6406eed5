"""Production refuses every development secret of this service's settings (#26.4)."""

from __future__ import annotations

from edvent_ai_notes.config import Settings
from edvent_localstack.testing import ProductionSecretsContract


class TestProductionSecrets(ProductionSecretsContract):
    settings_class = Settings
    secret_fields = ("s3_access_key", "s3_secret_key", "openai_api_key")
