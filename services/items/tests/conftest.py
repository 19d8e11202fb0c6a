"""The items app on the test Postgres, verifying tokens against a JWKS served over real HTTP
(the plugin's ``signing_key`` and ``jwks_url``)."""

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import RowMapping, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from flotilla.settings import Environment
from flotilla.testing.pytest_plugin import AppFactory
from flotilla.testing.settings import settings_for_test
from flotilla.testing.tokens import SigningKey, bearer, claims_for
from items.main import create_app
from items.models import items
from items.settings import ItemsSettings

OWNER_ID = 1
OTHER_USER_ID = 2
ADMIN_ID = 99

Headers = dict[str, str]
AddItem = Callable[..., Awaitable[int]]


@pytest.fixture
def settings(database_url: str, jwks_url: str) -> ItemsSettings:
    return settings_for_test(
        ItemsSettings, environment=Environment.TEST, database_url=database_url, jwks_url=jwks_url
    )


@pytest.fixture
def service_app_factory() -> AppFactory:
    return create_app


@pytest.fixture
def headers_for(signing_key: SigningKey) -> Callable[..., Headers]:
    """``Authorization`` headers with a valid token for a user id (and roles)."""

    def make(user_id: int, *, roles: tuple[str, ...] = ()) -> Headers:
        return bearer(signing_key.sign(claims_for(user_id, roles=roles)))

    return make


@pytest.fixture
def owner(headers_for: Callable[..., Headers]) -> Headers:
    return headers_for(OWNER_ID)


@pytest.fixture
def other_user(headers_for: Callable[..., Headers]) -> Headers:
    return headers_for(OTHER_USER_ID)


@pytest.fixture
def admin(headers_for: Callable[..., Headers]) -> Headers:
    return headers_for(ADMIN_ID, roles=("admin",))


@pytest.fixture
def add_item(db_session: AsyncSession) -> AddItem:
    """Insert an item straight into the test's database; returns its id."""

    async def add(
        name: str = "Widget",
        *,
        price: int = 100,
        owner_id: int = OWNER_ID,
        description: str | None = None,
    ) -> int:
        statement = insert(items).values(
            name=name, price=price, owner_id=owner_id, description=description
        )
        return int((await db_session.execute(statement.returning(items.c.id))).scalar_one())

    return add


async def stored_item(session: AsyncSession, item_id: int) -> RowMapping | None:
    """The item's row as the database has it (``None`` if there is none)."""
    result = await session.execute(select(items).where(items.c.id == item_id))
    return result.mappings().one_or_none()
