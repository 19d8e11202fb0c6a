"""What every service built with create_service_app does for free."""

import json
import logging
import re
from collections.abc import Callable

import httpx
import pytest

from flotilla.app import create_service_app
from flotilla.auth import TokenVerifier
from flotilla.logging import configure_logging
from flotilla.testing.tokens import SigningKey, bearer, claims_for

from ..conftest import build_app, settings_for


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_every_response_carries_a_generated_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert len(response.headers["X-Request-ID"]) == 32


async def test_a_valid_inbound_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-123.a_b"})

    assert response.headers["X-Request-ID"] == "trace-123.a_b"


async def test_an_invalid_inbound_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id!"})

    assert response.headers["X-Request-ID"] != "bad id!"


async def test_security_headers_are_set(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/healthz",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )

    assert "access-control-allow-origin" not in response.headers


async def test_an_unhandled_error_is_a_bare_500_with_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "boom-1"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["X-Request-ID"] == "boom-1"
    assert "hunter2" not in response.text
    assert any(record.exc_info for record in caplog.records)


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.post("/notes", json={"text": "counted"})

    body = (await client.get("/metrics")).text

    assert 'http_requests_total{method="POST",route="/notes",status="201"} 1.0' in body
    assert "http_request_duration_seconds_bucket" in body


async def test_unmatched_paths_share_one_metrics_label(client: httpx.AsyncClient) -> None:
    await client.get("/no/such/path/1")
    await client.get("/no/such/path/2")

    body = (await client.get("/metrics")).text

    assert 'route="<unmatched>",status="404"} 2.0' in body


async def test_readyz_documents_its_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    responses = document["paths"]["/readyz"]["get"]["responses"]
    readiness = {"$ref": "#/components/schemas/Readiness"}
    assert responses["200"]["content"]["application/json"]["schema"] == readiness
    assert responses["503"]["content"]["application/json"]["schema"] == readiness
    assert set(document["components"]["schemas"]["Readiness"]["required"]) == {"status", "checks"}


async def test_the_docs_declare_the_password_flow_at_the_configured_token_url(
    database_url: str, verifier: TokenVerifier
) -> None:
    settings = settings_for(database_url, token_url="https://api.example/api/v1/auth/token")
    app = build_app(settings, verifier)

    scheme = app.openapi()["components"]["securitySchemes"]["OAuth2PasswordBearer"]

    assert scheme["flows"]["password"]["tokenUrl"] == "https://api.example/api/v1/auth/token"


async def test_the_docs_pages_serve_their_assets_themselves(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)

        assert "https://" not in html
        for asset in assets:
            assert (await client.get(asset)).status_code == 200, asset


async def test_log_lines_are_json_with_the_request_id(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("notes")  # bind the handler to the captured stdout
    await client.get("/notes/count", headers={"X-Request-ID": "log-me-1"})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = [line for line in lines if line["logger"] == "flotilla.access"]

    assert access[-1]["request_id"] == "log-me-1"
    assert access[-1]["route"] == "/notes/count"
    assert access[-1]["service"] == "notes"


def test_uvicorns_terminal_colours_stay_out_of_json_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("notes")
    # What uvicorn logs at start-up: a message plus its ANSI-coloured twin.
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 7, extra={"color_message": "Started \x1b[36m%d\x1b[0m"}
    )

    [line] = [json.loads(out) for out in capsys.readouterr().out.splitlines() if out]
    assert line["message"] == "Started server process [7]"
    assert "color_message" not in line


async def test_successful_probes_are_not_logged_at_info(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("notes")
    await client.get("/healthz")
    await client.get("/readyz")

    assert '"route": "/healthz"' not in capsys.readouterr().out


class TestAuthentication:
    async def test_no_credentials_is_401_not_authenticated(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/whoami")

        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}
        assert response.headers["WWW-Authenticate"] == "Bearer"

    @pytest.mark.parametrize("authorization", ["Basic dTpw", "Bearer", "Bearer ", "Token abc"])
    async def test_no_bearer_token_is_401_not_authenticated(
        self, client: httpx.AsyncClient, authorization: str
    ) -> None:
        response = await client.get("/whoami", headers={"Authorization": authorization})

        assert response.status_code == 401
        assert response.json() == {"detail": "Not authenticated"}

    @pytest.mark.parametrize(
        "token_of",
        [
            pytest.param(lambda key: "garbage", id="garbage"),
            pytest.param(lambda key: key.sign(claims_for(1, lifetime_seconds=-5)), id="expired"),
            pytest.param(lambda key: key.sign(claims_for(1, audience="other")), id="wrong-aud"),
            pytest.param(lambda key: SigningKey().sign(claims_for(1)), id="unknown-key"),
        ],
    )
    async def test_a_bad_token_is_401_invalid_credentials(
        self,
        client: httpx.AsyncClient,
        signing_key: SigningKey,
        token_of: Callable[[SigningKey], str],
    ) -> None:
        token = token_of(signing_key)

        response = await client.get("/whoami", headers=bearer(token))

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid authentication credentials"}
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_a_valid_token_identifies_the_caller(
        self, client: httpx.AsyncClient, signing_key: SigningKey
    ) -> None:
        token = signing_key.sign(claims_for(5, roles=["reader"]))

        response = await client.get("/whoami", headers=bearer(token))

        assert response.status_code == 200
        assert response.json() == {"user_id": 5, "roles": ["reader"]}

    async def test_a_non_admin_is_403_on_admin_routes(
        self, client: httpx.AsyncClient, signing_key: SigningKey
    ) -> None:
        response = await client.get("/admin-only", headers=bearer(signing_key.sign(claims_for(5))))

        assert response.status_code == 403
        assert response.json() == {"detail": "Not enough permissions"}

    async def test_an_admin_passes_admin_routes(
        self, client: httpx.AsyncClient, signing_key: SigningKey
    ) -> None:
        token = signing_key.sign(claims_for(1, roles=["admin"]))

        response = await client.get("/admin-only", headers=bearer(token))

        assert response.status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(rb'{"text": ["\ud800"]}', id="lone-surrogate"),
        pytest.param(b'{"text": NaN}', id="nan"),
        pytest.param(b'{"text": [Infinity]}', id="infinity"),
    ],
)
async def test_invalid_input_that_json_cannot_echo_is_still_a_422(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post(
        "/notes", content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]


async def test_validation_errors_do_not_echo_the_input(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", json={"text": ["hunter2"]})

    assert response.status_code == 422
    assert response.json()["detail"][0].keys() >= {"loc", "msg", "type"}
    assert "hunter2" not in response.text


async def test_cors_allows_only_the_configured_origins(
    database_url: str, verifier: TokenVerifier
) -> None:
    settings = settings_for(database_url, cors_allow_origins=["https://app.example"])
    app = create_service_app(name="cors", version="0", settings=settings, routers=[])
    preflight = {"Access-Control-Request-Method": "GET"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        allowed = await client.options(
            "/healthz", headers={"Origin": "https://app.example", **preflight}
        )
        refused = await client.options(
            "/healthz", headers={"Origin": "https://evil.example", **preflight}
        )

    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in refused.headers
