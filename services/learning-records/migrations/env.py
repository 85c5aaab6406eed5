from edvent_learning_records.config import Settings
from edvent_learning_records.db.tables import metadata
from edvent_platform.migrations import run_migrations

settings = Settings()
run_migrations(metadata=metadata, schema=settings.db_schema, url=settings.database_url)
