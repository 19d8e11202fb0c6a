from flotilla.migrations import run_migrations
from items.models import metadata
from items.settings import ItemsSettings

run_migrations(metadata, settings_class=ItemsSettings)
