"""Settings base shared by every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``USERS_``, ``ITEMS_``, ``GATEWAY_``), so one environment can configure the
whole stack without collisions.
"""

from enum import StrEnum
from typing import ClassVar, Self, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The public edge's limits on request headers (the gateway's defaults): more is ``431``.
EDGE_MAX_HEADER_BYTES = 16 * 1024
EDGE_MAX_HEADER_FIELDS = 100
#: What the gateway may add to a request it forwards: ``X-Forwarded-For/-Proto/-Host``,
#: ``X-Request-ID``, trace context, the upstream's ``Host``. A service's default limits
#: exceed the edge's by this much, so a request the gateway accepts is never refused upstream.
FORWARDING_HEADROOM_BYTES = 2 * 1024
FORWARDING_HEADROOM_FIELDS = 10


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


#: The only environments that may run with development defaults.
LENIENT_ENVIRONMENTS = frozenset({Environment.DEVELOPMENT, Environment.TEST})


class InsecureSettingsError(ValueError):
    """Raised when a configuration outside development and test carries a development default."""

    def __init__(self, environment: Environment, problems: list[str]) -> None:
        self.problems = [f"refusing to start in {environment}: {p}" for p in problems]
        super().__init__("\n".join(self.problems))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_parse_none_str="none"
    )

    #: False for a service without a database (the gateway): its URL is then never checked.
    uses_database: ClassVar[bool] = True

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
    #: Request headers beyond these totals (names plus values, or fields) answer ``431``.
    #: A service sits behind the gateway: its defaults leave room for what the gateway adds.
    max_header_bytes: int = Field(
        default=EDGE_MAX_HEADER_BYTES + FORWARDING_HEADROOM_BYTES, ge=1024
    )
    max_header_fields: int = Field(
        default=EDGE_MAX_HEADER_FIELDS + FORWARDING_HEADROOM_FIELDS, ge=10
    )
    #: Peers whose ``X-Forwarded-For``/``-Proto`` the server believes (uvicorn's
    #: ``forwarded_allow_ips``). Empty, the default: nobody's; the connection's own address counts.
    forwarded_allow_ips: list[str] = []
    #: Where the docs' Authorize dialog logs in (OAuth2 password flow). Relative to
    #: the page, so by default the gateway's own: its merged docs log in through it.
    token_url: str = "/api/v1/auth/token"  # noqa: S105 (a path, not a secret)
    #: On SIGTERM, keep serving this long with ``/readyz`` at 503 before shutting down, so
    #: load balancers stop choosing this replica first (``flotilla.shutdown``). Off by
    #: default (a lone process has no one to drain from); the compose file, the Swarm stack
    #: and the Kubernetes manifests set it.
    drain_seconds: float = Field(default=0.0, ge=0)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def insecure_defaults(self) -> list[str]:
        """One line per setting that still holds a development-only value.

        Subclasses extend this list; outside development and test, start-up refuses any of them.
        """
        insecure = []
        if self.uses_database and ":postgres@" in self.database_url:
            insecure.append(
                f"the database password is the default one; set {self.variable('database_url')}"
            )
        return insecure

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable that sets ``field``, e.g. ``USERS_DATABASE_URL``."""
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Self:
        if self.environment not in LENIENT_ENVIRONMENTS:
            insecure = self.insecure_defaults()
            if insecure:
                raise InsecureSettingsError(self.environment, insecure)
        return self


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """The service's settings from its environment; a bad one exits with one line per problem.

    What ``create_app()`` uses when uvicorn starts a service, so a refused
    configuration reads as a list of what to fix, not a pydantic traceback.
    """
    try:
        return settings_class()
    except ValidationError as error:
        raise SystemExit("\n".join(describe_problems(settings_class, error))) from None


def describe_problems(settings_class: type[ServiceSettings], error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        cause = problem.get("ctx", {}).get("error")
        if isinstance(cause, InsecureSettingsError):
            lines += cause.problems
        else:
            field = ".".join(str(part) for part in problem["loc"])
            lines.append(f"{settings_class.variable(field)}: {problem['msg']}")
    return lines
