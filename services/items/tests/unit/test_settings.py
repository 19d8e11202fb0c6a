import pytest
from pydantic import ValidationError

from flotilla.settings import Environment
from items.settings import ItemsSettings

#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")


def test_settings_come_from_items_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITEMS_DATABASE_URL", "postgresql+psycopg://items:pw@db:5432/items")
    monkeypatch.setenv("ITEMS_JWKS_URL", "http://users:8000/api/v1/auth/jwks")

    settings = ItemsSettings()

    assert settings.database_url == "postgresql+psycopg://items:pw@db:5432/items"
    assert settings.jwks_url == "http://users:8000/api/v1/auth/jwks"


def test_another_services_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", "postgresql+psycopg://users:pw@db:5432/users")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bare:pw@db:5432/bare")

    assert "users" not in ItemsSettings().database_url
    assert "bare" not in ItemsSettings().database_url


def test_production_refuses_the_default_database_password() -> None:
    with pytest.raises(ValidationError, match="set ITEMS_DATABASE_URL"):
        ItemsSettings(environment=Environment.PRODUCTION)
