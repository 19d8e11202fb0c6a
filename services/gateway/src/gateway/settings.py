"""Gateway settings: where the upstreams are, which paths go where, limits and timeouts.

Everything comes from ``GATEWAY_*`` environment variables. Each upstream is
one variable, its name after ``GATEWAY_UPSTREAMS__``::

    GATEWAY_UPSTREAMS__ITEMS='{"url": "http://items:8000", "routes": ["/api/v1/items"]}'

(or all of them at once as ``GATEWAY_UPSTREAMS='{"items": {...}, ...}'``). The
dev stack sets them from the services' ``[tool.flotilla]`` tables.
"""

from typing import Self

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict

from flotilla.settings import EDGE_MAX_HEADER_BYTES, EDGE_MAX_HEADER_FIELDS, ServiceSettings
from gateway.routing import is_under

#: Answered by the gateway itself; no route may send them upstream.
OWN_PATHS = (
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/static-offline-docs",
)


class UpstreamSettings(BaseModel):
    """One service behind the gateway."""

    #: Base URL, e.g. ``http://items:8000``.
    url: str
    #: Path prefixes sent to it. A prefix matches itself and everything below it
    #: (``/api/v1/users`` and ``/api/v1/users/7``), never a longer segment (``/api/v1/usersX``).
    routes: list[str] = Field(default_factory=list)


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__")
    uses_database = False

    upstreams: dict[str, UpstreamSettings] = Field(default_factory=dict)

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
    #: The public limits on request headers (431 beyond). Raising them means raising
    #: the services' ``*_MAX_HEADER_BYTES``/``_FIELDS`` too, which sit above these by
    #: the headroom of what the gateway adds to a forwarded request.
    max_header_bytes: int = Field(default=EDGE_MAX_HEADER_BYTES, ge=1024)
    max_header_fields: int = Field(default=EDGE_MAX_HEADER_FIELDS, ge=10)

    #: How often each upstream's name is resolved again and its addresses' ``/readyz``
    #: asked; requests are spread over the ready addresses (``gateway.balancer``).
    upstream_refresh_seconds: float = Field(default=1.0, gt=0)
    #: Readiness probes and OpenAPI fetches to the upstreams.
    probe_timeout_seconds: float = Field(default=2.0, gt=0)
    #: How long a fetched upstream OpenAPI document is reused.
    docs_cache_seconds: float = Field(default=60.0, ge=0)

    @property
    def upstream_urls(self) -> dict[str, str]:
        """Upstream name -> base URL (no trailing slash)."""
        return {name: upstream.url.rstrip("/") for name, upstream in self.upstreams.items()}

    @property
    def routes(self) -> dict[str, str]:
        """Path prefix -> upstream name."""
        return {
            prefix: name for name, upstream in self.upstreams.items() for prefix in upstream.routes
        }

    @model_validator(mode="after")
    def _routes_are_well_formed(self) -> Self:
        seen: dict[str, str] = {}
        for name, upstream in self.upstreams.items():
            for prefix in upstream.routes:
                if not prefix.startswith("/") or prefix.endswith("/"):
                    raise ValueError(f"route prefix {prefix!r} must start and not end with '/'")
                if any(is_under(path, prefix) for path in OWN_PATHS):
                    raise ValueError(f"route prefix {prefix!r} covers the gateway's own endpoints")
                if prefix in seen:
                    raise ValueError(f"route prefix {prefix!r} goes to {seen[prefix]} and {name}")
                seen[prefix] = name
        return self
