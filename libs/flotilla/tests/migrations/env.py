from sqlalchemy import MetaData

from flotilla.migrations import run_migrations
from flotilla.settings import ServiceSettings

run_migrations(MetaData(), settings_class=ServiceSettings)
