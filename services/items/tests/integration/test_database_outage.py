"""A lost database is a 503, never a 500; the service recovers by itself and loses nothing."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from flotilla.testing.faults import DatabaseProxy

from ..conftest import Headers

UNAVAILABLE = {"detail": "Service temporarily unavailable"}


async def test_reads_are_503_while_the_database_is_down_then_recover(
    database_proxy: DatabaseProxy, proxied_client: httpx.AsyncClient
) -> None:
    assert (await proxied_client.get("/api/v1/items/")).status_code == 200

    await database_proxy.cut()
    listing = await proxied_client.get("/api/v1/items/")
    one = await proxied_client.get("/api/v1/items/1")
    readiness = await proxied_client.get("/readyz")
    await database_proxy.restore()
    after_recovery = await proxied_client.get("/api/v1/items/")

    assert (listing.status_code, listing.json()) == (503, UNAVAILABLE)
    assert (one.status_code, one.json()) == (503, UNAVAILABLE)
    assert readiness.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}
    assert after_recovery.status_code == 200


async def test_writes_are_refused_during_the_outage_and_accepted_after(
    database_proxy: DatabaseProxy,
    proxied_client: httpx.AsyncClient,
    owner: Headers,
    database_engine: AsyncEngine,
) -> None:
    await database_proxy.cut()
    refused = await proxied_client.post(
        "/api/v1/items/", json={"name": "during", "price": 1}, headers=owner
    )
    await database_proxy.restore()
    accepted = await proxied_client.post(
        "/api/v1/items/", json={"name": "after", "price": 1}, headers=owner
    )

    assert (refused.status_code, refused.json()) == (503, UNAVAILABLE)
    assert refused.headers["X-Request-ID"]
    assert accepted.status_code == 201
    async with database_engine.connect() as connection:
        stored = (await connection.execute(text("SELECT name FROM items"))).scalars().all()
    assert stored == ["after"]
