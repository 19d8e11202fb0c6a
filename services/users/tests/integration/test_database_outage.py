import httpx

from flotilla.testing.faults import DatabaseProxy

from ..conftest import register


async def test_registration_is_503_while_the_database_is_down_then_recovers(
    database_proxy: DatabaseProxy, proxied_client: httpx.AsyncClient
) -> None:
    await database_proxy.cut()
    during = await register(proxied_client, "outage@example.com")
    await database_proxy.restore()
    after = await register(proxied_client, "outage@example.com")

    assert during.status_code == 503
    assert during.json() == {"detail": "Service temporarily unavailable"}
    assert after.status_code == 201
