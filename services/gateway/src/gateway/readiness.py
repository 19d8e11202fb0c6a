"""The gateway is ready when every upstream says it is ready."""

from collections.abc import Mapping

import aiohttp

from flotilla.health import ReadinessCheck
from gateway.client import UpstreamClient


class UpstreamNotReadyError(Exception):
    pass


def upstream_readiness_checks(
    client: UpstreamClient, upstreams: Mapping[str, str], *, timeout_seconds: float
) -> dict[str, ReadinessCheck]:
    """One named check per upstream: its ``/readyz`` must answer 200."""
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def check_for(base_url: str) -> ReadinessCheck:
        async def check() -> None:
            async with client.session.get(f"{base_url}/readyz", timeout=timeout) as response:
                if response.status != 200:
                    raise UpstreamNotReadyError(f"{base_url}/readyz answered {response.status}")

        return check

    return {name: check_for(url) for name, url in upstreams.items()}
