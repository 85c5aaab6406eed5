"""Production refuses every development secret of this service's settings (#26.4)."""

from __future__ import annotations

from edvent_assessment.config import Settings
from edvent_localstack.testing import ProductionSecretsContract


class TestProductionSecrets(ProductionSecretsContract):
    settings_class = Settings
    secret_fields = ()
