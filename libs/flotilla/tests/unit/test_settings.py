import pytest
from pydantic import ValidationError

from flotilla.settings import Environment, ServiceSettings, load_settings

#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")

SAFE_URL = "postgresql+psycopg://svc:s3cret-from-vault@db:5432/svc"


def test_development_accepts_the_default_database_password() -> None:
    settings = ServiceSettings(environment=Environment.DEVELOPMENT)

    assert ":postgres@" in settings.database_url


def test_production_refuses_the_default_database_password() -> None:
    with pytest.raises(
        ValidationError, match="database password is the default one; set DATABASE_URL"
    ):
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


@pytest.mark.parametrize("environment", [Environment.DEVELOPMENT, Environment.TEST])
def test_development_and_test_accept_development_defaults(environment: Environment) -> None:
    assert ServiceSettings(environment=environment).environment is environment


def test_staging_refuses_the_default_database_password() -> None:
    with pytest.raises(
        ValidationError, match="refusing to start in staging: the database password"
    ):
        ServiceSettings(environment=Environment.STAGING)


def test_a_refused_start_says_one_line_per_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "staging")

    with pytest.raises(SystemExit) as exit_info:
        load_settings(ServiceSettings)

    assert str(exit_info.value) == (
        "refusing to start in staging: the database password is the default one; set DATABASE_URL"
    )


def test_an_invalid_value_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "lots")

    with pytest.raises(SystemExit) as exit_info:
        load_settings(ServiceSettings)

    assert str(exit_info.value).startswith("DATABASE_POOL_SIZE: Input should be a valid integer")
