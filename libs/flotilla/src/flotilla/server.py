"""How every Flotilla service is served: one place for the uvicorn options.

    python -m flotilla.server users --host 0.0.0.0 --port 8000

The Dockerfile, the dev stack, the benchmarks and the test servers all build
their server here, from the app's own settings:

- httptools, through :class:`HeaderLimitedProtocol`, given to uvicorn's documented
  ``http`` setting: it stops reading a request head that outgrows the header
  limits, so a client cannot make the server buffer megabytes of headers. The
  class overrides hooks of uvicorn's httptools protocol that uvicorn does not
  document (``on_message_begin``, ``on_headers_complete``, ``data_received``,
  ``send_400_response``): uvicorn is pinned below its next minor release, and
  ``test_server`` covers each hook, so an upgrade is a deliberate step;
- no websockets (``ws="none"``): an upgrade request is an ordinary HTTP request
  that the app answers, with the shared middleware's headers;
- no ``Server`` header: it tells a client nothing it needs;
- ``X-Forwarded-For``/``-Proto`` believed only from ``forwarded_allow_ips``
  (default: nobody).
"""

import argparse
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Self

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import Config
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from flotilla.headers import SECURITY_HEADERS
from flotilla.settings import ServiceSettings

logger = logging.getLogger(__name__)

HEADERS_TOO_LARGE = "Request header fields too large"
INVALID_REQUEST = "Invalid HTTP request"
#: What a request line and the ``": "`` and CRLF around each field may add to the
#: header bytes before a head is refused unread.
_HEAD_FRAMING_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    max_bytes: int
    max_fields: int

    @classmethod
    def of(cls, settings: ServiceSettings) -> Self:
        return cls(settings.max_header_bytes, settings.max_header_fields)

    @property
    def max_head_bytes(self) -> int:
        """Raw bytes of an unfinished request head past which it is refused unread."""
        return self.max_bytes + 4 * self.max_fields + _HEAD_FRAMING_BYTES


def early_response(status: int, reason: str, detail: str) -> bytes:
    """A complete response written before any app code runs; the connection then closes.

    It carries what the shared middleware would add: a fresh ``X-Request-ID``
    (the client's is not trusted from a request that could not be read) and the
    security headers.
    """
    body = json.dumps({"detail": detail}).encode()
    lines = [
        f"HTTP/1.1 {status} {reason}".encode(),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
        b"x-request-id: " + uuid.uuid4().hex.encode(),
        *(name + b": " + value for name, value in SECURITY_HEADERS),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class HeaderLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that never buffers a request head past the limits.

    While a head is incomplete, the bytes received for it are counted after each
    read; past :attr:`HeaderLimits.max_head_bytes` the request is refused with
    ``431`` and the connection closed, so memory stays within the limit plus one
    read. A head that arrives whole is checked exactly by the app
    (:class:`flotilla.conformance.ConformanceMiddleware`), which answers ``431`` too.
    """

    limits: ClassVar[HeaderLimits]
    #: Whether the request being read is still in its head, and its bytes so far
    #: (``on_message_begin`` resets both for each request).
    _head_incomplete: bool = True
    _head_bytes: int = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_incomplete = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._head_incomplete = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        counting = self._head_incomplete
        super().data_received(data)
        if counting and self._head_incomplete and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                logger.warning("request head over %d bytes refused", self.limits.max_head_bytes)
                self.transport.write(
                    early_response(431, "Request Header Fields Too Large", HEADERS_TOO_LARGE)
                )
                self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """The parser's own ``400`` for a request it cannot parse, in the contract's shape."""
        self.transport.write(early_response(400, "Bad Request", INVALID_REQUEST))
        self.transport.close()


def protocol_with(limits: HeaderLimits) -> type[HeaderLimitedProtocol]:
    return type("HeaderLimitedProtocol", (HeaderLimitedProtocol,), {"limits": limits})


def server_config(app: ASGIApp, settings: ServiceSettings, *, host: str, port: int) -> Config:
    """The uvicorn configuration of a Flotilla service (see the module docstring)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_with(HeaderLimits.of(settings)),
        ws="none",
        server_header=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        access_log=False,  # flotilla's own access log carries the request id
        log_config=None,
        lifespan="on",
    )


def settings_of(app: ASGIApp) -> ServiceSettings:
    settings = getattr(getattr(app, "state", None), "settings", None)
    return settings if isinstance(settings, ServiceSettings) else ServiceSettings()


def factory_of(service: str) -> str:
    """``items`` -> ``items.main:create_app``; a ``module:factory`` is taken as it is."""
    return service if ":" in service else f"{service.replace('-', '_')}.main:create_app"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m flotilla.server", description=__doc__)
    parser.add_argument(
        "service",
        nargs="?",
        default=os.environ.get("FLOTILLA_SERVICE"),
        help="a service (items, order-lines) or an app factory (items.main:create_app); "
        "default: $FLOTILLA_SERVICE, which each image sets",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if not args.service:
        parser.error("name the service (or set FLOTILLA_SERVICE)")
    factory: Callable[[], ASGIApp] = import_from_string(factory_of(args.service))
    app = factory()
    uvicorn.Server(server_config(app, settings_of(app), host=args.host, port=args.port)).run()


if __name__ == "__main__":
    main()
