"""Which headers cross the gateway, in each direction (RFC 9110 section 7.6.1).

Hop-by-hop headers describe one connection, not the message, so they stop
here: the fixed list below plus every header the ``Connection`` header names.
Everything else passes unchanged, except what a reverse proxy must own:

- ``Host`` is the upstream's (the client's goes to ``X-Forwarded-Host``);
- ``X-Forwarded-For``, ``-Proto`` and ``-Host`` are the gateway's own view of the
  connection; the client's (and its ``Forwarded``) are dropped, never appended
  to: the gateway is the edge and believes no client about where a request came
  from. Behind a proxy of your own, ``GATEWAY_FORWARDED_ALLOW_IPS`` lets the
  server take the client address from that proxy, and that address is sent;
- ``X-Request-ID`` is the effective request id of the gateway's request;
- ``Expect`` is answered by the gateway's server already;
- the upstream's ``Date`` and ``Server`` are replaced by the gateway's server
  (as nginx does), rather than sent twice.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_PROXY_PREFIX = b"proxy-"

_HOST = b"host"
_CONNECTION = b"connection"
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
_OWNED_BY_GATEWAY = frozenset(
    {
        _HOST,
        b"expect",
        b"x-request-id",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)
_SET_BY_GATEWAY_SERVER = frozenset({b"date", b"server"})


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names listed in ``Connection`` (``Connection: close, X-Secret``)."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == _CONNECTION:
            tokens.update(token.strip().lower() for token in value.split(b","))
    return frozenset(tokens)


def is_hop_by_hop(name: bytes, named_in_connection: frozenset[bytes]) -> bool:
    """``name`` must be lower case."""
    return name in HOP_BY_HOP or name.startswith(_PROXY_PREFIX) or name in named_in_connection


@dataclass(frozen=True, slots=True)
class UpstreamRequestHead:
    headers: list[tuple[str, str]]
    #: The declared body length, or None when the body is chunked or absent.
    content_length: int | None
    #: True when the client sent a body without a length (``Transfer-Encoding: chunked``).
    chunked: bool

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)


def upstream_request_head(scope: Scope, request_id: str) -> UpstreamRequestHead:
    """The headers to send upstream for the request in ``scope``, and how its body is framed."""
    inbound: list[tuple[bytes, bytes]] = scope["headers"]
    named = connection_tokens(inbound)
    headers: list[tuple[str, str]] = []
    content_length: int | None = None
    chunked = False
    host = ""
    for name, value in inbound:
        if name == _CONTENT_LENGTH:
            content_length = int(value)
        elif name == _TRANSFER_ENCODING:
            chunked = True
        if name in _OWNED_BY_GATEWAY:
            if name == _HOST:
                host = value.decode("latin-1")
            continue
        if not is_hop_by_hop(name, named):
            headers.append((name.decode("latin-1"), value.decode("latin-1")))

    client = scope.get("client")
    client_host = client[0] if client else "unknown"
    headers.append(("x-forwarded-for", client_host))
    headers.append(("x-forwarded-proto", scope.get("scheme", "http")))
    if host:
        headers.append(("x-forwarded-host", host))
    headers.append(("x-request-id", request_id))
    return UpstreamRequestHead(headers, None if chunked else content_length, chunked)


def downstream_response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers as the gateway sends them to its client."""
    raw = list(raw)
    named = connection_tokens(raw)
    headers = []
    for name, value in raw:
        lower = name.lower()
        if not (is_hop_by_hop(lower, named) or lower in _SET_BY_GATEWAY_SERVER):
            headers.append((lower, value))
    return headers
