"""The one pooled HTTP client the gateway talks to its upstreams with.

aiohttp, chosen by measurement: ``httpx.AsyncClient`` in this role is several
times slower (design notes: ~700 vs ~5,000 req/s on a trivial endpoint);
aiohttp costs ~0.13 ms of CPU per proxied request on the CI machines, most of
it socket writes. ``nox -s bench`` measures the whole hop.

A proxy's client must not act on its own: no cookie jar (one client's cookies
would be sent on everyone's requests), no redirects followed, no decompression
(the body and its ``Content-Encoding`` pass through untouched), no default
``User-Agent``/``Accept*``/``Content-Type`` added to what the client sent.

When tracing is on, each upstream request gets a client span, child of the
gateway's server span, and carries it to the upstream as ``traceparent``.
"""

import aiohttp
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from yarl import URL

from flotilla import tracing
from gateway.settings import GatewaySettings

SKIP_AUTO_HEADERS = frozenset({"Accept", "Accept-Encoding", "User-Agent", "Content-Type"})


def trace_configs() -> list[aiohttp.TraceConfig]:
    provider = tracing.tracer_provider()
    if provider is None:
        return []
    return [
        create_trace_config(
            url_filter=redacted_url, tracer_provider=provider, meter_provider=tracing.NO_METRICS
        )
    ]


def redacted_url(url: URL) -> str:
    return tracing.redacted_url(str(url))


def client_timeout(settings: GatewaySettings) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=None,
        # aiohttp's "connect" covers waiting for a pool slot and opening the connection.
        connect=settings.pool_timeout_seconds,
        sock_connect=settings.connect_timeout_seconds,
        sock_read=settings.read_timeout_seconds,
    )


class UpstreamClient:
    """Holds the ``aiohttp.ClientSession``; opened and closed by the app's lifespan."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the upstream client is not open (is the app's lifespan running?)")
        return self._session

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0,  # no global cap: one upstream's pool must not starve another's
            limit_per_host=self._settings.pool_size_per_upstream,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=client_timeout(self._settings),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
            trace_configs=trace_configs(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
