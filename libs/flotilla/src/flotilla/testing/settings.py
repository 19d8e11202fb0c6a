"""Settings for tests: built only from what the test says.

A developer's shell (``USERS_*``, ``FIRST_ADMIN_*``...) or a ``.env`` file
must change no test result, so test settings ignore both.
"""

from functools import cache
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from flotilla.settings import SettingsT


def settings_for_test(settings_class: type[SettingsT], **values: Any) -> SettingsT:
    """``settings_class(**values)``, validated as usual, but never reading the environment."""
    isolated: type[SettingsT] = _from_values_only(settings_class)
    return isolated(**values)


@cache
def _from_values_only(settings_class: type[SettingsT]) -> type[SettingsT]:
    def sources(
        cls: type[BaseSettings],
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    namespace = {"settings_customise_sources": classmethod(sources), "__module__": __name__}
    return type(settings_class.__name__, (settings_class,), namespace)
