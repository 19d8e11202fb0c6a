"""Request ids: kept from the caller when well-formed, generated otherwise.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: it costs throughput and
breaks streaming) stores the id in a context variable, so every log line
written while serving the request carries it, and echoes it on the response.
When tracing is on, the request's server span records it too.
"""

import re
import uuid
from contextvars import ContextVar

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

#: Where the id is also kept in the ASGI scope, for handlers outside the middleware
#: (Starlette's outermost error handler runs after the middleware has returned).
SCOPE_KEY = "flotilla.request_id"
#: The span attribute that holds the request id.
SPAN_ATTRIBUTE = "flotilla.request_id"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def accept_or_generate(candidate: str | None) -> str:
    if candidate is not None and _VALID_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbound = None
        for name, value in scope["headers"]:
            if name == _HEADER_KEY:
                inbound = value.decode("latin-1")
                break
        request_id = accept_or_generate(inbound)
        scope[SCOPE_KEY] = request_id
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(SPAN_ATTRIBUTE, request_id)
        token = request_id_var.set(request_id)
        encoded = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _HEADER_KEY]
                headers.append((_HEADER_KEY, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
