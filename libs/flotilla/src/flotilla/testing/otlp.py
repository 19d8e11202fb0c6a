"""A small OTLP/HTTP trace receiver: what services export, decoded for tests to inspect.

It accepts ``POST /v1/traces`` with an ``ExportTraceServiceRequest`` in
protobuf (gzip or not), decodes it with the official ``opentelemetry-proto``
package and keeps each span with its service's name. In a test::

    with receiving_spans() as receiver:
        ...  # run services with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint
        spans = receiver.wait_for(lambda spans: len(spans) >= 3)

``python -m flotilla.testing.otlp --port 4318`` runs it on its own, counting
spans rather than keeping them (the benchmark's receiver).
"""

import argparse
import gzip
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    #: ``SERVER``, ``CLIENT``, ``INTERNAL``, ...
    kind: str
    trace_id: str
    span_id: str
    #: None for a root span.
    parent_span_id: str | None
    attributes: dict[str, Any]


def _value(value: AnyValue) -> Any:
    field = value.WhichOneof("value")
    if field is None:
        return None
    if field == "array_value":
        return [_value(item) for item in value.array_value.values]
    if field == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, field)


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode(payload: bytes) -> list[ReceivedSpan]:
    """The spans of one OTLP/HTTP protobuf export request."""
    request = ExportTraceServiceRequest.FromString(payload)
    spans = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        service=service,
                        name=span.name,
                        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        attributes=_attributes(span.attributes),
                    )
                )
    return spans


class OtlpReceiver(ThreadingHTTPServer):
    """Receives exports on 127.0.0.1; keeps the spans, or only counts them."""

    daemon_threads = True

    def __init__(self, port: int = 0, *, keep: bool = True) -> None:
        super().__init__(("127.0.0.1", port), _ExportHandler)
        self.keep = keep
        self.count = 0
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        """The base URL, for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            self.count += len(spans)
            if self.keep:
                self._spans.extend(spans)

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], *, timeout: float = 15.0
    ) -> list[ReceivedSpan]:
        """The spans received once ``done(spans)`` holds, or all of them at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if done(spans) or time.monotonic() > deadline:
                return spans
            time.sleep(0.05)


class _ExportHandler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def do_POST(self) -> None:
        if self.path != TRACES_PATH:
            self._answer(HTTPStatus.NOT_FOUND, b"")
            return
        payload = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                payload = gzip.decompress(payload)
            spans = decode(payload)
        except (DecodeError, OSError, EOFError):
            self._answer(HTTPStatus.BAD_REQUEST, b"")
            return
        self.server.add(spans)
        self._answer(HTTPStatus.OK, ExportTraceServiceResponse().SerializeToString())

    def _answer(self, status: HTTPStatus, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", PROTOBUF)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per export would drown the test output."""


@contextmanager
def receiving_spans(*, keep: bool = True) -> Iterator[OtlpReceiver]:
    """A receiver on a free loopback port, served in a thread until the block ends."""
    receiver = OtlpReceiver(keep=keep)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m flotilla.testing.otlp", description=__doc__)
    parser.add_argument("--port", type=int, default=4318)
    args = parser.parse_args()
    receiver = OtlpReceiver(args.port, keep=False)
    print(f"receiving OTLP/HTTP traces at {receiver.endpoint}{TRACES_PATH}", flush=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
        print(f"received {receiver.count} spans", flush=True)


if __name__ == "__main__":
    main()
