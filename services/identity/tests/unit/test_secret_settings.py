"""Production refuses every development secret of this service's settings (#26.4)."""

from __future__ import annotations

from edvent_identity.config import Settings
from edvent_localstack.testing import ProductionSecretsContract


class TestProductionSecrets(ProductionSecretsContract):
    settings_class = Settings
    secret_fields = ("signing_key_pem", "signing_key_passphrase", "bootstrap_admin_password")
