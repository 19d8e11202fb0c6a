import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from flotilla.testing.faults import DatabaseProxy
from flotilla.testing.pytest_plugin import truncate_all_tables
from users.main import create_app
from users.settings import UsersSettings

from ..conftest import register


async def test_registration_is_503_while_the_database_is_down_then_recovers(
    database_proxy: DatabaseProxy, settings: UsersSettings, database_engine: AsyncEngine
) -> None:
    proxied_url = database_proxy.url_for(make_url(settings.database_url))
    app = create_app(
        settings.model_copy(
            update={"database_url": proxied_url.render_as_string(hide_password=False)}
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await database_proxy.cut()
            during = await register(client, "outage@example.com")
            await database_proxy.restore()
            after = await register(client, "outage@example.com")
    finally:
        await truncate_all_tables(database_engine)

    assert during.status_code == 503
    assert during.json() == {"detail": "Service temporarily unavailable"}
    assert after.status_code == 201
