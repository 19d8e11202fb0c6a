"""What the dev stack runs: every registered service, its port, database and environment."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flotilla.devstack.registry import Service, discover

#: The route whose service issues tokens; the others fetch its public keys.
AUTH_ROUTE = "/api/v1/auth"


@dataclass(frozen=True)
class ServiceSpec:
    service: Service
    env: dict[str, str] = field(default_factory=dict)
    #: Where it listens when not on its dev-stack port (the benchmarks take free ones).
    listen_port: int | None = None

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def port(self) -> int:
        return self.service.port if self.listen_port is None else self.listen_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def gateway_upstreams(urls: Mapping[Service, str]) -> dict[str, str]:
    """The gateway's settings for these upstreams, at these URLs: one variable each."""
    return {
        f"GATEWAY_UPSTREAMS__{upstream.package.upper()}": json.dumps(
            {"url": url, "routes": list(upstream.routes)}
        )
        for upstream, url in urls.items()
    }


def stack(
    data_dir: Path,
    services: list[Service] | None = None,
    *,
    ports: Mapping[str, int] | None = None,
) -> list[ServiceSpec]:
    """The specs of ``services`` (default: every registered one), the gateway last.

    ``ports`` (service name -> port) moves services off their dev-stack ports;
    the gateway and the token issuer's clients are pointed at where they listen.
    """
    services = discover() if services is None else services
    ports = ports or {}
    upstreams = [service for service in services if not service.is_gateway]
    issuer = next((s for s in upstreams if AUTH_ROUTE in s.routes), None)

    def url(service: Service) -> str:
        return f"http://127.0.0.1:{ports.get(service.name, service.port)}"

    specs = []
    for service in services:
        prefix = service.env_prefix
        env = {f"{prefix}DATA_DIR": str(data_dir / service.name)}
        if issuer is not None and service is not issuer:
            env[f"{prefix}JWKS_URL"] = f"{url(issuer)}{AUTH_ROUTE}/jwks"
        if service.is_gateway:
            env |= gateway_upstreams({upstream: url(upstream) for upstream in upstreams})
        specs.append(ServiceSpec(service, env, ports.get(service.name)))
    return specs
