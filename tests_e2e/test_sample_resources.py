"""A service fresh from the template serves its sample resource through the gateway.

Which services still carry it is read from the gateway's merged OpenAPI
document (``POST /api/v1/<name>/`` and ``GET /api/v1/<name>/{record_id}``), so
the journey covers every such service, e.g. right after ``nox -s new-service``.
"""

import httpx
import pytest

from tests_e2e.conftest import sign_up

SAMPLE_READ = "/api/v1/{name}/{{record_id}}"


def sample_services(api: httpx.Client) -> list[str]:
    paths = api.get("/openapi.json").json()["paths"]
    segments = {path.split("/")[3] for path in paths if path.startswith("/api/v1/")}
    return sorted(
        name
        for name in segments
        if SAMPLE_READ.format(name=name) in paths and "post" in paths.get(f"/api/v1/{name}/", {})
    )


def test_register_login_then_create_and_read_each_sample_resource(api: httpx.Client) -> None:
    services = sample_services(api)
    if not services:
        pytest.skip("no service with the template's sample resource (run nox -s new-service)")
    _, auth = sign_up(api)

    for name in services:
        created = api.post(f"/api/v1/{name}", json={"name": f"first {name}"}, headers=auth)
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        read = api.get(location)
        listed = api.get(f"/api/v1/{name}/", params={"limit": 100})

        assert read.status_code == 200
        assert read.json() == created.json()
        assert created.json()["id"] in [entry["id"] for entry in listed.json()["items"]]
