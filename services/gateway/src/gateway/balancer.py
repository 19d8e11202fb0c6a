"""Spreading an upstream's requests over every address its name resolves to.

An upstream name can stand for several replicas: Docker Swarm's ``dnsrr``
endpoint mode and a Kubernetes headless Service both answer a lookup with
every replica's address. The gateway connects to those addresses itself,
in turn, instead of letting the HTTP client pick the first one.

Every ``upstream_refresh_seconds`` (the app runs :meth:`Balancer.refresh_all`
on a timer) each upstream's name is resolved again and every
address is asked for its ``/readyz``; requests go to the ready ones. A
draining replica (``flotilla.shutdown``) answers 503 there while it still
serves, so it stops being chosen before it stops accepting. An address that
refuses a connection is dropped at once, until a refresh finds it ready again.
When no address is known to be ready, every resolved address is tried: a
request then fails the way it would have without the balancer, or succeeds.
"""

import asyncio
import itertools
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
from yarl import URL

from flotilla import tracing

logger = logging.getLogger(__name__)

#: ``(host, port) -> addresses``; the default asks the system resolver.
Resolver = Callable[[str, int], Awaitable[list[str]]]
#: ``(address URL, Host header) -> ready?``
ReadinessProbe = Callable[[URL, str], Awaitable[bool]]


#: "No such name": every replica is gone (Swarm and a headless Service drop the name).
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address of ``host``; none when the name does not exist (other failures raise)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in _NO_SUCH_NAME:
            return []
        raise
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class UpstreamAddresses:
    """One upstream's addresses: which are ready, and whose turn it is."""

    def __init__(self, name: str, base_url: str) -> None:
        url = URL(base_url)
        if url.host is None or url.port is None:
            raise ValueError(f"upstream {name!r} URL {base_url!r} needs a host")
        self.name = name
        self.host: str = url.host
        self.port: int = url.port
        self.scheme = url.scheme
        #: The upstream's own name, sent as ``Host`` whichever address is chosen.
        self.host_header = url.authority
        self.resolved: list[str] = []
        self.ready: list[str] = []
        self._turn = itertools.count()

    def url_of(self, address: str) -> URL:
        return URL.build(scheme=self.scheme, host=address, port=self.port)

    def update(self, resolved: list[str], ready: list[str]) -> None:
        self.resolved = resolved
        self.ready = ready

    def choose(self) -> str | None:
        """The next ready address in turn; any resolved one if none is ready."""
        pool = self.ready or self.resolved
        return pool[next(self._turn) % len(pool)] if pool else None

    def alternative(self, failed: str) -> str | None:
        """Another address to retry on: the one after ``failed`` among the ready ones.

        It does not take a turn, so retries leave the spread of first attempts even.
        """
        pool = self.ready or self.resolved
        if failed in pool:
            at = pool.index(failed)
            pool = pool[at + 1 :] + pool[:at]
        return pool[0] if pool else None

    def refused(self, address: str) -> None:
        """Stop choosing an address that refused (or timed out) a connection until it is ready
        again."""
        if address in self.ready:
            self.ready = [a for a in self.ready if a != address]
            logger.warning("upstream %s: %s refused a connection", self.name, address)


class Balancer:
    """Every upstream's addresses, kept fresh by :meth:`refresh_all` (on the app's timer)."""

    def __init__(
        self,
        upstreams: Mapping[str, str],
        *,
        resolver: Resolver,
        probe: ReadinessProbe,
    ) -> None:
        self.upstreams = {name: UpstreamAddresses(name, url) for name, url in upstreams.items()}
        self._resolver = resolver
        self._probe = probe

    def __getitem__(self, name: str) -> UpstreamAddresses:
        return self.upstreams[name]

    async def refresh(self, name: str) -> None:
        """Resolve one upstream again and probe each address; keep the old list if DNS fails."""
        upstream = self.upstreams[name]
        try:
            resolved = await self._resolver(upstream.host, upstream.port)
        except OSError as error:
            logger.warning("upstream %s: resolving %s failed: %s", name, upstream.host, error)
            resolved = upstream.resolved
        answers = await asyncio.gather(
            *(self._probe(upstream.url_of(address), upstream.host_header) for address in resolved)
        )
        upstream.update(resolved, [a for a, ready in zip(resolved, answers, strict=True) if ready])

    async def refresh_all(self) -> None:
        await asyncio.gather(*(self.refresh(name) for name in self.upstreams))


def readyz_probe(session: Callable[[], aiohttp.ClientSession], timeout: float) -> ReadinessProbe:
    """Ready means the address answers ``GET /readyz`` with 200 within ``timeout``."""
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def probe(url: URL, host_header: str) -> bool:
        try:
            # A probe a second per address is no part of any request's trace.
            with tracing.without_spans():
                async with session().get(
                    url / "readyz", headers={"Host": host_header}, timeout=client_timeout
                ) as response:
                    return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    return probe
