"""Gateway settings: where the upstreams are, which paths go where, limits and timeouts.

Everything comes from ``GATEWAY_*`` environment variables, e.g.
``GATEWAY_ITEMS_URL=http://items:8000`` or
``GATEWAY_ROUTES='{"/api/v1/items": "items"}'``.
"""

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from flotilla.settings import ServiceSettings
from gateway.routing import is_under

#: Path prefix -> upstream name. A prefix matches itself and everything below it
#: (``/api/v1/users`` and ``/api/v1/users/7``), never a longer segment (``/api/v1/usersX``).
DEFAULT_ROUTES = {
    "/api/v1/auth": "users",
    "/api/v1/users": "users",
    "/api/v1/items": "items",
}
#: Answered by the gateway itself; no route may send them upstream.
OWN_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect")


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    users_url: str = "http://127.0.0.1:8001"
    items_url: str = "http://127.0.0.1:8002"
    routes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))

    #: Opening a TCP connection to an upstream.
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    #: Waiting for the upstream's response, and between two reads of its body.
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    #: Getting a connection at all: waiting for a free one while the upstream's
    #: pool is full, or opening a new one.
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    #: Open connections per upstream; each upstream has its own, so a hung one
    #: cannot take the connections the others need.
    pool_size_per_upstream: int = Field(default=100, ge=1)
    #: Request bodies larger than this are refused with 413 before forwarding.
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)

    #: How often each upstream's name is resolved again and its addresses' ``/readyz``
    #: asked; requests are spread over the ready addresses (``gateway.balancer``).
    upstream_refresh_seconds: float = Field(default=1.0, gt=0)
    #: Readiness probes and OpenAPI fetches to the upstreams.
    probe_timeout_seconds: float = Field(default=2.0, gt=0)
    #: How long a fetched upstream OpenAPI document is reused.
    docs_cache_seconds: float = Field(default=60.0, ge=0)

    @property
    def upstreams(self) -> dict[str, str]:
        """Upstream name -> base URL (no trailing slash)."""
        return {"users": self.users_url.rstrip("/"), "items": self.items_url.rstrip("/")}

    @model_validator(mode="after")
    def _routes_are_well_formed(self) -> Self:
        for prefix, upstream in self.routes.items():
            if not prefix.startswith("/") or prefix.endswith("/"):
                raise ValueError(f"route prefix {prefix!r} must start and not end with '/'")
            if any(is_under(path, prefix) for path in OWN_PATHS):
                raise ValueError(f"route prefix {prefix!r} covers the gateway's own endpoints")
            if upstream not in self.upstreams:
                raise ValueError(f"route {prefix!r} names unknown upstream {upstream!r}")
        return self

    def insecure_defaults(self) -> list[str]:
        """The gateway has no database, so the database password check does not apply."""
        return [name for name in super().insecure_defaults() if not name.startswith("database_url")]
