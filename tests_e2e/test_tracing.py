"""Tracing on a real dev stack: every process exports over OTLP/HTTP to the repo's receiver.

Each test starts its own stack with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at
a receiver it owns (the receiver decodes the protobuf payloads with
``opentelemetry-proto``); stopping the stack flushes every span.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from flotilla.testing.otlp import OtlpReceiver, ReceivedSpan, receiving_spans
from tests_e2e.conftest import log_in, register, unique_email
from tests_e2e.stack import Stack, started_dev_stack

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("GATEWAY_URL")),
    reason="needs a dev stack of its own, exporting to this test's receiver",
)

TRACE_ID = "5b8efff798038103d269b633813fc60c"
CALLER_SPAN_ID = "eee19b7ec3c1b174"
PASSWORD = "sentinel-password-77c1"
SQL_PARAMETER = "sentinel-item-name-3d9e"
REFRESH_TOKEN = "sentinel-refresh-token-a41f"


@contextmanager
def traced_dev_stack(receiver: OtlpReceiver) -> Iterator[Stack]:
    """A dev stack exporting to ``receiver``; the shell's own ``OTEL_*`` variables left out."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("OTEL_")]:
            patch.delenv(name)
        env = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            # Per-process names must win over the one the shell holds.
            "OTEL_SERVICE_NAME": "set-in-the-shell",
        }
        with started_dev_stack(env=env) as stack:
            yield stack


def one(spans: list[ReceivedSpan], service: str, kind: str, parent_span_id: str) -> ReceivedSpan:
    (span,) = [
        span
        for span in spans
        if span.service == service
        and span.kind == kind
        and span.parent_span_id == parent_span_id
        and "db.system" not in span.attributes
    ]
    return span


def test_a_request_is_one_trace_across_gateway_items_and_users() -> None:
    with receiving_spans() as receiver:
        with traced_dev_stack(receiver) as stack, httpx.Client(base_url=stack.gateway_url) as api:
            email = unique_email("traced")
            register(api, email, PASSWORD)
            auth = log_in(api, email, PASSWORD)
            # Items' first signed-in request: it fetches the JWKS from users while serving it.
            created = api.post(
                "/api/v1/items/",
                json={"name": "Lamp", "price": 1999},
                headers={
                    **auth,
                    "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01",
                    "X-Request-ID": "e2e-traced-1",
                },
            )
        spans = [span for span in receiver.spans() if span.trace_id == TRACE_ID]

    assert created.status_code == 201, created.text
    gateway = one(spans, "gateway", "SERVER", CALLER_SPAN_ID)
    forwarded = one(spans, "gateway", "CLIENT", gateway.span_id)
    items = one(spans, "items", "SERVER", forwarded.span_id)
    jwks_fetch = one(spans, "items", "CLIENT", items.span_id)
    users = one(spans, "users", "SERVER", jwks_fetch.span_id)
    assert users.attributes["url.path"] == "/api/v1/auth/jwks"
    assert gateway.attributes["flotilla.request_id"] == "e2e-traced-1"
    assert items.attributes["flotilla.request_id"] == "e2e-traced-1"


def test_no_exported_span_holds_a_password_a_token_or_a_sql_parameter() -> None:
    with receiving_spans() as receiver:
        with traced_dev_stack(receiver) as stack, httpx.Client(base_url=stack.gateway_url) as api:
            email = unique_email("sentinel")
            register(api, email, PASSWORD)
            login = api.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            # Whatever the answer (401 for this token), the token must not be recorded.
            api.post("/api/v1/auth/refresh", json={"refresh_token": REFRESH_TOKEN})
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            item = {"name": SQL_PARAMETER, "price": 100}
            created = api.post("/api/v1/items/", json=item, headers=auth)
            found = api.get("/api/v1/items/", params={"q": SQL_PARAMETER})
        spans = receiver.spans()

    assert (login.status_code, created.status_code, found.status_code) == (200, 201, 200)
    assert {span.service for span in spans} >= {"gateway", "items", "users"}
    recorded = [span.name for span in spans]
    recorded += [str(value) for span in spans for value in span.attributes.values()]
    sentinels = {
        "password": PASSWORD,
        "SQL parameter": SQL_PARAMETER,
        "access token": login.json()["access_token"],
        "refresh token": REFRESH_TOKEN,
    }
    for label, sentinel in sentinels.items():
        assert [value for value in recorded if sentinel in value] == [], label
