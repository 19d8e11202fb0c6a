"""One trace across the gateway, items and users (the JWKS fetch), with tracing on in memory."""

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy.engine import URL

from flotilla.request_id import SPAN_ATTRIBUTE
from flotilla.testing.postgres import drop_database
from flotilla.testing.servers import serve_in_thread
from gateway.main import create_app as create_gateway
from items.main import create_app as create_items
from users.main import create_app as create_users

from .conftest import gateway_settings, items_settings, migrated_database, users_settings

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"
PASSWORD = "correct horse battery"
SPANS_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class TracedStack:
    gateway: str
    items: str
    users: str


@pytest.fixture
def traced_stack(
    span_exporter: InMemorySpanExporter, postgres_server_url: URL, tmp_path: Path
) -> Iterator[TracedStack]:
    """Fresh users, items and gateway apps, created with tracing on."""
    users_db, users_database = migrated_database(postgres_server_url, "users")
    items_db, items_database = migrated_database(postgres_server_url, "items")
    with ExitStack() as running:
        users = running.enter_context(
            serve_in_thread(create_users(users_settings(users_database, tmp_path)))
        )
        items = running.enter_context(
            serve_in_thread(create_items(items_settings(items_database, users)))
        )
        gateway = running.enter_context(
            serve_in_thread(create_gateway(gateway_settings(users, items)))
        )
        yield TracedStack(gateway, items, users)
    drop_database(postgres_server_url, users_db)
    drop_database(postgres_server_url, items_db)


def signed_up(client: httpx.Client) -> dict[str, str]:
    email = f"traced-{uuid.uuid4().hex[:12]}@example.com"
    registered = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def spans_of_trace(exporter: InMemorySpanExporter, *, at_least: int) -> list[ReadableSpan]:
    """The trace's spans, once ``at_least`` have ended (a server ends its span after answering)."""
    deadline = time.monotonic() + SPANS_WAIT_SECONDS
    while True:
        spans = [
            span
            for span in exporter.get_finished_spans()
            if span.context is not None and format_trace_id(span.context.trace_id) == TRACE_ID
        ]
        if len(spans) >= at_least or time.monotonic() > deadline:
            return spans
        time.sleep(0.02)


def span_values(span: ReadableSpan) -> list[object]:
    return [span.name, *(span.attributes or {}).values()]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def span_id(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return format_span_id(context.span_id)


def one(spans: list[ReadableSpan], kind: SpanKind, parent: ReadableSpan | str) -> ReadableSpan:
    """The only span of ``kind`` whose parent is ``parent`` (a span, or a span id in hex)."""
    parent_id = parent if isinstance(parent, str) else span_id(parent)
    (span,) = [
        span
        for span in spans
        if span.kind is kind
        and span.parent is not None
        and format_span_id(span.parent.span_id) == parent_id
    ]
    return span


def test_one_trace_runs_from_the_gateway_through_items_to_users(
    traced_stack: TracedStack, span_exporter: InMemorySpanExporter
) -> None:
    with httpx.Client(base_url=traced_stack.gateway, timeout=30) as client:
        auth = signed_up(client)
        # Items' first signed-in request: it fetches the JWKS from users while serving it.
        created = client.post(
            "/api/v1/items/",
            json={"name": "Lamp", "price": 1999},
            headers={
                **auth,
                "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01",
                "X-Request-ID": "traced-request-1",
            },
        )
    assert created.status_code == 201, created.text

    # The HTTP spans; the database's own spans sit beside them.
    spans = [
        span
        for span in spans_of_trace(span_exporter, at_least=5)
        if "db.system" not in (span.attributes or {})
    ]
    gateway = one(spans, SpanKind.SERVER, CALLER_SPAN_ID)
    forwarded = one(spans, SpanKind.CLIENT, gateway)
    items = one(spans, SpanKind.SERVER, forwarded)
    jwks_fetch = one(spans, SpanKind.CLIENT, items)
    users = one(spans, SpanKind.SERVER, jwks_fetch)

    assert (gateway.attributes or {})["server.port"] == port_of(traced_stack.gateway)
    assert (items.attributes or {})["server.port"] == port_of(traced_stack.items)
    assert (users.attributes or {})["server.port"] == port_of(traced_stack.users)
    assert (users.attributes or {})["url.path"] == "/api/v1/auth/jwks"
    assert (gateway.attributes or {})[SPAN_ATTRIBUTE] == "traced-request-1"
    assert (items.attributes or {})[SPAN_ATTRIBUTE] == "traced-request-1"


def test_readiness_probes_make_no_spans(
    traced_stack: TracedStack, span_exporter: InMemorySpanExporter
) -> None:
    # The gateway's /readyz probes every upstream address's /readyz again.
    with httpx.Client(base_url=traced_stack.gateway, timeout=30) as client:
        assert client.get("/readyz").status_code == 200

    spans = span_exporter.get_finished_spans()
    assert [span for span in spans if any("readyz" in str(v) for v in span_values(span))] == []
