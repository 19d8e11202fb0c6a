import pytest
from pydantic import ValidationError

from flotilla.settings import Environment, ServiceSettings

SAFE_URL = "postgresql+psycopg://svc:s3cret-from-vault@db:5432/svc"


def test_development_accepts_the_default_database_password() -> None:
    settings = ServiceSettings(environment=Environment.DEVELOPMENT)

    assert ":postgres@" in settings.database_url


def test_production_refuses_the_default_database_password() -> None:
    with pytest.raises(ValidationError, match="insecure defaults: database_url"):
        ServiceSettings(environment=Environment.PRODUCTION)


def test_production_starts_with_configured_secrets() -> None:
    settings = ServiceSettings(environment=Environment.PRODUCTION, database_url=SAFE_URL)

    assert settings.is_production


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", '["https://app.example"]')

    settings = ServiceSettings()

    assert settings.log_level == "DEBUG"
    assert settings.cors_allow_origins == ["https://app.example"]
