"""Settings base shared by every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``USERS_``, ``ITEMS_``, ``GATEWAY_``), so one environment can configure the
whole stack without collisions.
"""

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InsecureSettingsError(ValueError):
    """Raised when a production configuration still carries a development default."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_parse_none_str="none"
    )

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    #: SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@host:5432/db``.
    database_url: str = "postgresql+psycopg://postgres:postgres@localhost:5432/postgres"
    database_pool_size: int = 10
    database_connect_timeout_seconds: float = 5.0
    #: Upper bound for one statement; a hung database becomes a 503, not a hung request.
    database_statement_timeout_seconds: float = 10.0
    #: Upper bound for waiting on a row or table lock; 0 waits as long as the statement may.
    database_lock_timeout_seconds: float = 0.0
    #: How often a statement or transaction is run again after a deadlock or serialization failure.
    database_conflict_retries: int = 3
    #: psycopg prepares a statement after this many runs on a connection; ``none`` never
    #: prepares (needed behind PgBouncer in transaction mode).
    database_prepare_threshold: int | None = 5
    #: Browser origins allowed by CORS; empty (the default) means CORS stays closed.
    cors_allow_origins: list[str] = []
    # Names, not secrets (ruff's S105 keys on the word "token").
    token_issuer: str = "flotilla-users"  # noqa: S105
    token_audience: str = "flotilla"  # noqa: S105
    #: Where services other than users fetch the public keys that verify tokens.
    jwks_url: str = "http://127.0.0.1:8001/api/v1/auth/jwks"
    jwks_timeout_seconds: float = 3.0
    #: Exempt what start-up built from the cyclic garbage collector (``gc.freeze``):
    #: fewer objects for every full collection to walk (``docs/benchmarks.md``).
    gc_freeze_after_startup: bool = True
    #: On SIGTERM, keep serving this long with ``/readyz`` at 503 before shutting down, so
    #: load balancers stop choosing this replica first (``flotilla.shutdown``). Off by
    #: default (a lone process has no one to drain from); the compose file, the Swarm stack
    #: and the Kubernetes manifests set it.
    drain_seconds: float = Field(default=0.0, ge=0)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def insecure_defaults(self) -> list[str]:
        """Names of settings that still hold a development-only value.

        Subclasses extend this list; production start-up refuses any of them.
        """
        insecure = []
        if ":postgres@" in self.database_url:
            insecure.append("database_url (default password)")
        return insecure

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Self:
        if self.is_production:
            insecure = self.insecure_defaults()
            if insecure:
                raise InsecureSettingsError(
                    "refusing to start in production with insecure defaults: " + ", ".join(insecure)
                )
        return self
