import pytest
from pydantic import ValidationError

from flotilla.settings import load_settings
from users.settings import UsersSettings

#: These tests read the environment: only the variables each one sets.
pytestmark = pytest.mark.usefixtures("clean_environment")

SAFE_DATABASE = "postgresql+psycopg://users:vault-secret@db:5432/users"


def test_production_refuses_to_start_without_a_signing_key() -> None:
    with pytest.raises(ValidationError, match="set USERS_SIGNING_KEY or USERS_SIGNING_KEY_FILE"):
        UsersSettings(environment="production", database_url=SAFE_DATABASE)


def test_production_starts_with_a_key_file(tmp_path: object) -> None:
    settings = UsersSettings(
        environment="production",
        database_url=SAFE_DATABASE,
        signing_key_file="/run/secrets/users-signing-key.pem",
    )

    assert settings.is_production


def test_first_admin_comes_from_the_unprefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRST_ADMIN_EMAIL", "root@example.com")
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "admin-secret")

    settings = UsersSettings()

    assert settings.first_admin_email == "root@example.com"
    assert settings.first_admin_password is not None
    assert settings.first_admin_password.get_secret_value() == "admin-secret"
    assert "admin-secret" not in repr(settings)


def test_service_settings_use_the_users_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("USERS_REFRESH_TOKEN_DAYS", "2")

    settings = UsersSettings()

    assert (settings.access_token_minutes, settings.refresh_token_days) == (5, 2)


def test_tokens_live_15_minutes_and_14_days_by_default() -> None:
    settings = UsersSettings()

    assert (settings.access_token_minutes, settings.refresh_token_days) == (15, 14)


def test_staging_refuses_development_defaults_one_line_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USERS_ENVIRONMENT", "staging")

    with pytest.raises(SystemExit) as exit_info:
        load_settings(UsersSettings)

    assert str(exit_info.value).splitlines() == [
        "refusing to start in staging: the database password is the default one; "
        "set USERS_DATABASE_URL",
        "refusing to start in staging: no signing key is configured; "
        "set USERS_SIGNING_KEY or USERS_SIGNING_KEY_FILE",
    ]
