"""Distributed tracing with OpenTelemetry, turned on by the standard ``OTEL_*`` variables.

Tracing is on when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and ``OTEL_SDK_DISABLED`` is not
``true``. The process then gets one SDK tracer provider that exports over
OTLP/HTTP protobuf through a batch span processor; the exporter and the
sampler read their own variables (``OTEL_EXPORTER_OTLP_*``,
``OTEL_TRACES_SAMPLER``, ``OTEL_TRACES_SAMPLER_ARG``, ``OTEL_BSP_*``), and
``OTEL_SERVICE_NAME`` overrides the service's own name. FastAPI's native
telemetry makes the server spans, continuing an inbound W3C ``traceparent``;
the instrumentations here make client and database spans and carry the
context on outbound requests.

Off, nothing is instrumented and FastAPI's telemetry is disabled: a request
costs what it cost before tracing existed (``docs/benchmarks.md``).

One provider per process, as OpenTelemetry intends (SQLAlchemy's
instrumentor works once per process); every instrumentation is handed it
explicitly, so tests can trace a block of code with their own.
"""

import contextlib
import os
from collections.abc import Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_SDK_DISABLED,
)
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv.attributes.url_attributes import URL_QUERY
from sqlalchemy.ext.asyncio import AsyncEngine

from flotilla.metrics import PROBE_ROUTES

REDACTED = "REDACTED"

#: Everything of FastAPI's telemetry off; :func:`telemetry_config` turns the server spans on.
TRACING_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}

#: The meter provider every instrumentation gets: only traces are exported (the
#: metrics are Prometheus'), and an instrument that records nowhere still costs
#: each request through the global provider's proxy.
NO_METRICS = NoOpMeterProvider()

_provider: TracerProvider | None = None


def export_configured() -> bool:
    """True when the environment asks for spans to be exported."""
    if os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() == "true":
        return False
    return bool(
        os.environ.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
        or os.environ.get(OTEL_EXPORTER_OTLP_ENDPOINT)
    )


def redacted_url(url: str) -> str:
    """``url`` with every query value replaced: a value can be a search term, an email, anything."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    return urlunsplit(parts._replace(query=redacted_query(parts.query)))


def redacted_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, REDACTED) for key, _ in pairs], safe=REDACTED)


class QueryRedaction(SpanProcessor):
    """Replaces the values in a span's ``url.query`` (FastAPI records the query as sent)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        query = (span.attributes or {}).get(URL_QUERY)
        if isinstance(query, str):
            span.set_attribute(URL_QUERY, redacted_query(query))


def build_provider(service_name: str, processor: SpanProcessor) -> TracerProvider:
    """A provider whose spans, query values redacted, go to ``processor``.

    Sampling follows ``OTEL_TRACES_SAMPLER`` (default: follow the caller's decision,
    sample new traces), and the service name ``OTEL_SERVICE_NAME`` when set.
    """
    resource = Resource.create({SERVICE_NAME: service_name}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(QueryRedaction())
    provider.add_span_processor(processor)
    return provider


def start(service_name: str) -> bool:
    """Turn tracing on if the environment asks for it (once per process); True when on."""
    global _provider
    if _provider is None and export_configured():
        _provider = build_provider(service_name, BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)  # for code that traces with the global provider
    return _provider is not None


@contextlib.contextmanager
def tracing_with(provider: TracerProvider) -> Iterator[None]:
    """Tracing on with ``provider`` for the apps created inside the block.

    For tests, with a provider that keeps spans in memory. Afterwards SQLAlchemy
    is uninstrumented, so the next block can instrument its own engine.
    """
    global _provider
    previous, _provider = _provider, provider
    try:
        yield
    finally:
        _provider = previous
        instrumentor = SQLAlchemyInstrumentor()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def tracer_provider() -> TracerProvider | None:
    """The provider new apps trace with; None when tracing is off."""
    return _provider


def is_probe(scope: MutableMapping[str, Any]) -> bool:
    """A health, readiness or metrics request: polled every few seconds, part of no trace."""
    return scope.get("path") in PROBE_ROUTES


def telemetry_config() -> TelemetryConfig:
    """FastAPI's ``telemetry=``: off, nothing; on, the server spans alone, probes excepted.

    FastAPI's metrics and logs would duplicate the Prometheus metrics and JSON
    logs, and its per-dependency spans cost more than they tell for routes this small.
    """
    if _provider is None:
        return TRACING_OFF
    return {**TRACING_OFF, "tracing": True, "tracer_provider": _provider, "exclude": is_probe}


def instrument_engine(engine: AsyncEngine) -> None:
    """Spans for the engine's statements: the SQL with its placeholders, never the values.

    SQLAlchemy's instrumentor works once per process; a service has one engine.
    Its declared range ends before SQLAlchemy 2.1, whose engine events it hooks
    are unchanged, so the version check is skipped (``test_tracing`` proves the spans).
    """
    instrumentor = SQLAlchemyInstrumentor()
    if _provider is not None and not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(
            engine=engine.sync_engine,
            tracer_provider=_provider,
            meter_provider=NO_METRICS,
            skip_dep_check=True,
        )


def without_spans() -> contextlib.AbstractContextManager[None]:
    """Instrumentations make no spans inside the block.

    For steps whose span tells less than it costs, such as a pool checkout:
    SQLAlchemy's instrumentor would give every checkout a ``connect`` span, a
    third of a database request's spans (``docs/benchmarks.md``).
    """
    if _provider is None:
        return contextlib.nullcontext()
    return suppress_instrumentation()


def instrument_http_client(client: httpx.AsyncClient) -> None:
    """Client spans for ``client``'s requests, which carry the trace context upstream."""
    if _provider is not None:
        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=_provider, meter_provider=NO_METRICS
        )


#: How long an app's shutdown waits for its last spans to be exported.
FLUSH_TIMEOUT_MILLIS = 5000


def flush() -> None:
    """Export the spans still batched: at shutdown the process may be gone before the next batch."""
    if _provider is not None:
        _provider.force_flush(FLUSH_TIMEOUT_MILLIS)
