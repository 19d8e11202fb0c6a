"""Requests the HTTP rules say a server must refuse, refused before any route runs.

- Header fields over the limits: ``431`` (RFC 6585 section 5). The server's
  protocol (:mod:`flotilla.server`) refuses a head that grows past them while it
  is still arriving; this counts a head that arrived whole, exactly.
- Not exactly one valid ``Host`` in an HTTP/1.1 request, or an invalid or
  repeated one in any request: ``400`` (RFC 9112 section 3.2).
- A transfer coding other than ``chunked``: ``501`` (RFC 9112 section 6.1). The
  server removes the chunked framing; a body still coded (``gzip, chunked``)
  would reach the route with nothing saying so.
"""

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from flotilla.server import HEADERS_TOO_LARGE, HeaderLimits

_HOST = b"host"
_TRANSFER_ENCODING = b"transfer-encoding"
_CHUNKED = b"chunked"

_REG_NAME_CHAR = r"[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2}"
_IP_LITERAL = r"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
#: ``Host = uri-host [ ":" port ]`` (RFC 3986 section 3.2.2), a name at most 253 characters.
_VALID_HOST = re.compile(
    rf"(?:{_IP_LITERAL}|(?:{_REG_NAME_CHAR}){{0,253}})(?::(?P<port>[0-9]{{0,5}}))?".encode()
)
_MAX_PORT = 65535

BAD_HOST = "Request must carry exactly one valid Host header"
UNSUPPORTED_TRANSFER_CODING = "Transfer codings other than chunked are not supported"


def is_valid_host(value: bytes) -> bool:
    match = _VALID_HOST.fullmatch(value)
    if match is None:
        return False
    port = match.group("port")
    return not port or int(port) <= _MAX_PORT


def refusal(scope: Scope, limits: HeaderLimits) -> tuple[int, str] | None:
    """The status and message a request must be refused with, or None when it may proceed."""
    hosts: list[bytes] = []
    codings: list[bytes] = []
    size = 0
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        size += len(name) + len(value)
        if name == _HOST:
            hosts.append(value)
        elif name == _TRANSFER_ENCODING:
            codings.extend(coding.strip().lower() for coding in value.split(b","))
    if size > limits.max_bytes or len(headers) > limits.max_fields:
        return 431, HEADERS_TOO_LARGE
    if len(hosts) > 1 or (hosts and not is_valid_host(hosts[0])):
        return 400, BAD_HOST
    if not hosts and scope.get("http_version") not in ("1.0", "0.9"):
        return 400, BAD_HOST
    if any(coding != _CHUNKED for coding in codings):
        return 501, UNSUPPORTED_TRANSFER_CODING
    return None


class ConformanceMiddleware:
    def __init__(self, app: ASGIApp, *, limits: HeaderLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = refusal(scope, self.limits)
            if refused is not None:
                status, detail = refused
                body = json.dumps({"detail": detail}).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", b"%d" % len(body)),
                    (b"connection", b"close"),
                ]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
