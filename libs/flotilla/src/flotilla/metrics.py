"""Prometheus request metrics and one access-log line per request.

Labels use the route *template* (``/api/v1/items/{item_id}``), never the raw
path, so cardinality stays bounded; requests that match no route share the
``<unmatched>`` label.
"""

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

access_log = logging.getLogger("flotilla.access")
#: Probed every few seconds by orchestrators: logged at DEBUG while they succeed.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestMetrics:
    """The metric families of one app, on a registry of its own (apps in tests don't share)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        labels = ("method", "route", "status")
        self.requests = Counter(
            "http_requests_total", "HTTP requests handled.", labels, registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to produce the response.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        #: Label values -> their (counter, histogram) children: looked up once, not per request.
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: str, seconds: float) -> None:
        labels = (method, route, status)
        children = self._children.get(labels)
        if children is None:
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[labels] = children
        children[0].inc()
        children[1].observe(seconds)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = route_template(scope)
            self.metrics.observe(method, route, str(status), elapsed)
            level = logging.DEBUG if route in PROBE_ROUTES and status < 400 else logging.INFO
            access_log.log(
                level,
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
