"""When tracing is on, what it names the service, and what it keeps out of spans."""

import logging

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_span_id, format_trace_id

from flotilla import tracing
from flotilla.logging import TraceContextFilter

ENDPOINT = "http://127.0.0.1:4318"


def test_without_an_endpoint_nothing_is_exported() -> None:
    assert not tracing.export_configured()


@pytest.mark.parametrize(
    "variable", ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
)
def test_an_otlp_endpoint_turns_export_on(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, ENDPOINT)

    assert tracing.export_configured()


def test_otel_sdk_disabled_wins_over_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")

    assert not tracing.export_configured()


def test_off_fastapi_telemetry_is_disabled_entirely() -> None:
    config = tracing.telemetry_config()

    assert config == tracing.TRACING_OFF
    assert not any(config[signal] for signal in ("tracing", "metrics", "logs", "operation_spans"))


def test_spans_carry_the_service_name() -> None:
    provider = tracing.build_provider("items", SimpleSpanProcessor(InMemorySpanExporter()))

    assert provider.resource.attributes["service.name"] == "items"


def test_otel_service_name_overrides_the_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "items-eu")

    provider = tracing.build_provider("items", SimpleSpanProcessor(InMemorySpanExporter()))

    assert provider.resource.attributes["service.name"] == "items-eu"


def test_the_sampler_follows_otel_traces_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")

    provider = tracing.build_provider("items", SimpleSpanProcessor(InMemorySpanExporter()))

    assert provider.sampler.get_description() == "TraceIdRatioBased{0.25}"


def test_query_values_are_redacted_from_urls() -> None:
    url = "http://items:8002/api/v1/items?q=ada%40example.com&limit=5&flag"

    assert tracing.redacted_url(url) == (
        "http://items:8002/api/v1/items?q=REDACTED&limit=REDACTED&flag=REDACTED"
    )


def test_a_url_without_query_is_unchanged() -> None:
    assert tracing.redacted_url("http://users:8001/api/v1/auth/jwks") == (
        "http://users:8001/api/v1/auth/jwks"
    )


def log_record() -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, "message", None, None)


def test_a_log_record_inside_a_span_carries_its_trace_and_span_ids() -> None:
    provider = tracing.build_provider("items", SimpleSpanProcessor(InMemorySpanExporter()))
    record = log_record()

    with provider.get_tracer(__name__).start_as_current_span("work") as span:
        TraceContextFilter().filter(record)

    context = span.get_span_context()
    assert getattr(record, "trace_id", None) == format_trace_id(context.trace_id)
    assert getattr(record, "span_id", None) == format_span_id(context.span_id)


def test_a_log_record_outside_any_span_has_no_trace_ids() -> None:
    record = log_record()

    TraceContextFilter().filter(record)

    assert not hasattr(record, "trace_id")
    assert not hasattr(record, "span_id")
