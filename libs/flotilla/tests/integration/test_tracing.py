"""Spans of requests through a service app with tracing on, kept in memory."""

from collections.abc import Iterable

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy import bindparam, select

from flotilla.auth import TokenVerifier
from flotilla.db import DatabaseDep
from flotilla.request_id import SPAN_ATTRIBUTE
from flotilla.settings import ServiceSettings

from ..conftest import build_app, notes

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"

SQL_PARAMETER = "sentinel-sql-parameter-5e1f"
PASSWORD = "sentinel-password-0b7d"
BEARER_TOKEN = "sentinel.bearer-token.9c2a"

search = APIRouter()


@search.get("/notes/search")
async def search_notes(db: DatabaseDep, text: str) -> dict[str, int]:
    statement = select(notes.c.id).where(notes.c.text.like(bindparam("pattern")))
    rows: list[dict[str, int]] = await db.fetch_all(statement, {"pattern": text}, model=dict)
    return {"matches": len(rows)}


@pytest.fixture
def app(
    span_exporter: InMemorySpanExporter, settings: ServiceSettings, verifier: TokenVerifier
) -> FastAPI:
    """The test app, created once tracing is on (``span_exporter``), with a search route."""
    app = build_app(settings, verifier)
    app.include_router(search)
    return app


def server_span(spans: Iterable[ReadableSpan]) -> ReadableSpan:
    (span,) = [span for span in spans if span.kind is SpanKind.SERVER]
    return span


def every_recorded_value(spans: Iterable[ReadableSpan]) -> list[str]:
    """Names, attributes, event attributes and resource attributes of ``spans``, as text."""
    values = []
    for span in spans:
        values.append(span.name)
        values += [str(value) for value in (span.attributes or {}).values()]
        values += [str(value) for value in span.resource.attributes.values()]
        for event in span.events:
            values += [str(value) for value in (event.attributes or {}).values()]
    return values


async def test_a_request_continues_the_inbound_trace(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    response = await committing_client.get("/notes/count", headers={"traceparent": TRACEPARENT})

    assert response.status_code == 200
    span = server_span(span_exporter.get_finished_spans())
    assert span.name == "GET /notes/count"
    assert format_trace_id(span.context.trace_id) == TRACE_ID
    assert span.parent is not None
    assert format_span_id(span.parent.span_id) == PARENT_SPAN_ID
    assert (span.attributes or {})["http.response.status_code"] == 200


async def test_a_request_without_traceparent_starts_a_trace(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    await committing_client.get("/notes/count")

    assert server_span(span_exporter.get_finished_spans()).parent is None


async def test_the_request_id_is_recorded_on_the_server_span(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    await committing_client.get("/notes/count", headers={"X-Request-ID": "trace-me-1"})

    span = server_span(span_exporter.get_finished_spans())
    assert (span.attributes or {})[SPAN_ATTRIBUTE] == "trace-me-1"


async def test_a_statement_is_a_client_span_under_the_request(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    response = await committing_client.get("/notes/search", params={"text": "%x%"})

    assert response.status_code == 200
    spans = span_exporter.get_finished_spans()
    request = server_span(spans)
    (statement,) = [span for span in spans if span.name.startswith("SELECT")]
    assert statement.kind is SpanKind.CLIENT
    assert statement.parent is not None
    assert statement.parent.span_id == request.context.span_id
    assert "LIKE %(pattern)s" in str((statement.attributes or {})["db.statement"])


async def test_a_pool_checkout_makes_no_span(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    response = await committing_client.get("/notes/search", params={"text": "%x%"})

    assert response.status_code == 200
    # The request and its one statement ("SELECT" and, where known, the database's name).
    operations = sorted(span.name.split()[0] for span in span_exporter.get_finished_spans())
    assert operations == ["GET", "SELECT"]


@pytest.mark.parametrize("probe", ["/healthz", "/readyz", "/metrics"])
async def test_a_probe_makes_no_span(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter, probe: str
) -> None:
    response = await committing_client.get(probe)

    assert response.status_code == 200
    assert span_exporter.get_finished_spans() == ()


async def test_query_values_are_redacted_on_the_server_span(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    await committing_client.get("/notes/search", params={"text": "ada@example.com"})

    span = server_span(span_exporter.get_finished_spans())
    assert (span.attributes or {})["url.query"] == "text=REDACTED"


async def test_no_span_records_a_password_a_token_or_a_sql_parameter(
    committing_client: httpx.AsyncClient, span_exporter: InMemorySpanExporter
) -> None:
    await committing_client.get("/notes/search", params={"text": SQL_PARAMETER})
    await committing_client.post("/notes", json={"text": SQL_PARAMETER})
    await committing_client.post("/notes", json={"text": "x", "password": PASSWORD})
    await committing_client.get("/whoami", headers={"Authorization": f"Bearer {BEARER_TOKEN}"})

    spans = span_exporter.get_finished_spans()
    assert len([span for span in spans if span.kind is SpanKind.SERVER]) == 4
    values = every_recorded_value(spans)
    for sentinel in (SQL_PARAMETER, PASSWORD, BEARER_TOKEN):
        assert [value for value in values if sentinel in value] == [], sentinel
