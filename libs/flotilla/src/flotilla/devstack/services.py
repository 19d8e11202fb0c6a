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

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def port(self) -> int:
        return self.service.port

    @property
    def url(self) -> str:
        return self.service.url


def gateway_upstreams(urls: Mapping[Service, str]) -> dict[str, str]:
    """The gateway's settings for these upstreams, at these URLs: one variable each."""
    return {
        f"GATEWAY_UPSTREAMS__{upstream.package.upper()}": json.dumps(
            {"url": url, "routes": list(upstream.routes)}
        )
        for upstream, url in urls.items()
    }


def stack(data_dir: Path, services: list[Service] | None = None) -> list[ServiceSpec]:
    """The specs of ``services`` (default: every registered one), the gateway last."""
    services = discover() if services is None else services
    upstreams = [service for service in services if not service.is_gateway]
    issuer = next((s for s in upstreams if AUTH_ROUTE in s.routes), None)
    specs = []
    for service in services:
        prefix = service.env_prefix
        env = {f"{prefix}DATA_DIR": str(data_dir / service.name)}
        if issuer is not None and service is not issuer:
            env[f"{prefix}JWKS_URL"] = f"{issuer.url}{AUTH_ROUTE}/jwks"
        if service.is_gateway:
            env |= gateway_upstreams({upstream: upstream.url for upstream in upstreams})
        specs.append(ServiceSpec(service, env))
    return specs
