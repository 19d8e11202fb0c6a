"""A lost database is a 503, never a 500, and the service recovers by itself."""

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL

from flotilla.db import Database
from flotilla.testing.faults import DatabaseProxy
from flotilla.testing.postgres import admin_connect

from ..conftest import settings_for


async def test_requests_get_503_while_the_database_is_down_then_recover(
    database_proxy: DatabaseProxy, proxied_client: httpx.AsyncClient
) -> None:
    assert (await proxied_client.get("/notes/count")).status_code == 200

    await database_proxy.cut()
    during_outage = await proxied_client.get("/notes/count")
    readiness = await proxied_client.get("/readyz")
    await database_proxy.restore()
    after_recovery = await proxied_client.get("/notes/count")

    assert during_outage.status_code == 503
    assert during_outage.json() == {"detail": "Service temporarily unavailable"}
    assert readiness.status_code == 503
    assert readiness.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}
    assert after_recovery.status_code == 200


async def test_a_write_during_the_outage_is_refused_not_lost(
    database_proxy: DatabaseProxy, proxied_client: httpx.AsyncClient
) -> None:
    await database_proxy.cut()
    refused = await proxied_client.post("/notes", json={"text": "during outage"})
    await database_proxy.restore()

    assert refused.status_code == 503
    assert refused.headers["X-Request-ID"]


async def test_a_connection_the_server_closed_is_replaced_without_an_error(
    database_url: str, postgres_server_url: URL
) -> None:
    """No pre-ping: the pool sees that the server closed an idle connection, at no round trip."""
    database = Database(settings_for(database_url))
    try:
        first = await database.fetch_value(text("SELECT pg_backend_pid()"))
        with admin_connect(postgres_server_url) as admin:
            # With a timeout, it returns once the backend is gone.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (first,))

        second = await database.fetch_value(text("SELECT pg_backend_pid()"))
    finally:
        await database.dispose()

    assert second != first
