from flotilla.migrations import run_migrations
from users.models import Base
from users.settings import UsersSettings

run_migrations(Base.metadata, settings_class=UsersSettings)
