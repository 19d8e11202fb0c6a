from flotilla.migrations import run_migrations
from users.models import metadata
from users.settings import UsersSettings

run_migrations(metadata, settings_class=UsersSettings)
