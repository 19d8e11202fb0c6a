"""Forwarding a request to its upstream and streaming the answer back, as plain ASGI.

A proxied request never goes through FastAPI's routing, request parsing or
serialisation: the body streams from the client to the upstream and the
response streams back, chunk by chunk.
"""

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from flotilla.request_id import SCOPE_KEY, accept_or_generate
from gateway.balancer import Balancer, UpstreamAddresses
from gateway.client import UpstreamClient
from gateway.headers import UpstreamRequestHead, downstream_response_headers, upstream_request_head
from gateway.routing import RouteTable, Upstream

logger = logging.getLogger(__name__)


class BodyTooLargeError(Exception):
    """The client sent more than the configured maximum."""


class ClientGoneError(Exception):
    """The client disconnected while sending its body."""


class RequestBody:
    """The client's body as chunks for the upstream, counted against the limit as it streams.

    Crossing the limit raises inside the upstream client, which aborts the
    upstream request before its body is complete, so no upstream handler ever
    sees it. The client wraps what it raised; ``exceeded`` and ``client_gone``
    tell the proxy why the upstream request failed. A ``replayable`` body keeps
    what it passed on (never more than the limit), so a retry on another
    address can send it again.
    """

    def __init__(self, receive: Receive, limit: int, *, replayable: bool = False) -> None:
        self._receive = receive
        self._limit = limit
        self._replayable = replayable
        self._sent: list[bytes] = []
        self._received = 0
        self._more_body = True
        self.started = False
        self.exceeded = False
        self.client_gone = False

    @property
    def can_be_sent_again(self) -> bool:
        return not (self.exceeded or self.client_gone) and (self._replayable or not self.started)

    async def chunks(self) -> AsyncIterator[bytes]:
        for sent in self._sent:
            yield sent
        while self._more_body:
            self.started = True
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientGoneError
            chunk: bytes = message.get("body", b"")
            self._received += len(chunk)
            if self._received > self._limit:
                self.exceeded = True
                raise BodyTooLargeError
            self._more_body = message.get("more_body", False)
            if chunk:
                if self._replayable:
                    self._sent.append(chunk)
                yield chunk


#: Methods whose request may reach an upstream twice without a different effect (RFC 9110).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass
class Exchange:
    """One attempt at an upstream; ``started`` once the client has the response head."""

    started: bool = False


def never_connected(error: Exception) -> bool:
    return isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def may_send_again(method: str, error: Exception, body: RequestBody | None) -> bool:
    """Whether a failed attempt may be repeated on another address.

    A refused, failed or timed-out connect (``ClientConnectorError``,
    ``ConnectionTimeoutError``) provably sent nothing, so any request may go
    again. A connection that broke before a response began may have delivered
    the request: only an idempotent one is repeated. A body goes again only if
    it can be sent in full again.
    """
    if body is not None and not body.can_be_sent_again:
        return False
    if never_connected(error):
        return True
    connection_broke = isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
    return connection_broke and method in IDEMPOTENT_METHODS


def _error(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


BAD_GATEWAY = _error("Bad gateway")
GATEWAY_TIMEOUT = _error("Gateway timeout")
BODY_TOO_LARGE = _error("Request body too large")


async def send_error(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def upstream_url(base_url: str, scope: Scope) -> URL:
    """The upstream's base URL with the request's raw path and query, byte for byte."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope["query_string"]
    target = raw_path + b"?" + query if query else raw_path
    return URL(base_url + target.decode("latin-1"), encoded=True)


class Proxy:
    def __init__(self, client: UpstreamClient, balancer: Balancer, *, max_body_bytes: int) -> None:
        self._client = client
        self._balancer = balancer
        self._max_body_bytes = max_body_bytes

    async def forward(self, upstream: Upstream, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope.get(SCOPE_KEY) or accept_or_generate(None)
        head = upstream_request_head(scope, request_id)
        if head.content_length is not None and head.content_length > self._max_body_bytes:
            await send_error(send, 413, BODY_TOO_LARGE)
            return
        method: str = scope["method"]
        body = (
            RequestBody(receive, self._max_body_bytes, replayable=method in IDEMPOTENT_METHODS)
            if head.has_body
            else None
        )
        addresses = self._balancer[upstream.name]
        address = addresses.choose()
        if address is None:
            logger.warning("upstream %s: %s resolves to no address", upstream.name, addresses.host)
            await send_error(send, 502, BAD_GATEWAY)
            return
        retried = False
        while True:
            exchange = Exchange()
            try:
                await self._exchange(addresses, address, scope, head, body, send, exchange)
                return
            except (aiohttp.ClientError, TimeoutError) as error:
                if never_connected(error):
                    addresses.refused(address)
                retry_on = None
                if not (retried or exchange.started) and may_send_again(method, error, body):
                    retry_on = addresses.alternative(address)
                if retry_on is None:
                    await self._fail(upstream, error, send, started=exchange.started, body=body)
                    return
                logger.info(
                    "upstream %s: %s failed, retrying on another address",
                    upstream.name,
                    type(error).__name__,
                )
                address, retried = retry_on, True

    async def _exchange(
        self,
        addresses: UpstreamAddresses,
        address: str,
        scope: Scope,
        head: UpstreamRequestHead,
        body: RequestBody | None,
        send: Send,
        exchange: "Exchange",
    ) -> None:
        async with self._client.session.request(
            scope["method"],
            upstream_url(str(addresses.url_of(address)), scope),
            headers=[*head.headers, ("Host", addresses.host_header)],
            data=body.chunks() if body is not None else None,
            allow_redirects=False,
        ) as response:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": downstream_response_headers(response.raw_headers),
                }
            )
            exchange.started = True
            more_body = True
            while more_body:  # a body that has fully arrived goes in one message
                chunk = await response.content.readany()
                more_body = not response.content.at_eof()
                await send({"type": "http.response.body", "body": chunk, "more_body": more_body})

    async def _fail(
        self,
        upstream: Upstream,
        error: Exception,
        send: Send,
        *,
        started: bool,
        body: RequestBody | None,
    ) -> None:
        reason = type(error).__name__
        if started:
            # Too late for an error status: returning without finishing the
            # response makes the server cut the connection, which the client
            # sees as an incomplete response rather than a truncated success.
            logger.warning("upstream %s failed mid-response: %s", upstream.name, reason)
        elif body is not None and body.exceeded:
            await send_error(send, 413, BODY_TOO_LARGE)
        elif body is not None and body.client_gone:
            logger.info("client disconnected while sending its body to %s", upstream.name)
        elif isinstance(error, TimeoutError):
            logger.warning("upstream %s timed out: %s", upstream.name, reason)
            await send_error(send, 504, GATEWAY_TIMEOUT)
        else:
            logger.warning("upstream %s unreachable: %s", upstream.name, reason)
            await send_error(send, 502, BAD_GATEWAY)


class ProxyMiddleware:
    """Sends every HTTP request under a routed prefix to its upstream, the rest to ``app``.

    Installed innermost, under the shared middleware (request id, metrics and
    access log, security headers, CORS), so proxied requests get all of it but
    skip FastAPI's routing and exception handling, which they never need.
    """

    def __init__(self, app: ASGIApp, *, routes: RouteTable, proxy: Proxy) -> None:
        self.app = app
        self.routes = routes
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.match(scope["path"])
            if route is not None:
                scope["route"] = route  # its ``path`` labels the metrics
                await self.proxy.forward(route.upstream, scope, receive, send)
                return
        await self.app(scope, receive, send)
