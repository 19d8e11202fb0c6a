"""The gateway is ready while every upstream has at least one ready address.

One draining or failed replica does not make the gateway unready: requests
go to the others (``gateway.balancer``).
"""

from flotilla.health import ReadinessCheck
from gateway.balancer import Balancer


class UpstreamNotReadyError(Exception):
    pass


def upstream_readiness_checks(balancer: Balancer) -> dict[str, ReadinessCheck]:
    """One named check per upstream: resolve it again and probe every address's ``/readyz``."""

    def check_for(name: str) -> ReadinessCheck:
        async def check() -> None:
            await balancer.refresh(name)
            if not balancer[name].ready:
                raise UpstreamNotReadyError(f"no address of {name} is ready")

        return check

    return {name: check_for(name) for name in balancer.upstreams}
