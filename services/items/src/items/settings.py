"""Configuration of the items service (environment variables prefixed ``ITEMS_``)."""

from pydantic_settings import SettingsConfigDict

from flotilla.settings import ServiceSettings


class ItemsSettings(ServiceSettings):
    """``ITEMS_DATABASE_URL``, ``ITEMS_JWKS_URL`` (the users service's JWKS), ..."""

    model_config = SettingsConfigDict(env_prefix="ITEMS_")
