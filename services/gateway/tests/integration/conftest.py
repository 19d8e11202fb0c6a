"""The real users and items apps, each on its own migrated database, behind the gateway.

Every app is served over real HTTP on a loopback port; items verifies tokens
against the users service's JWKS, as in production.
"""

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import URL

from flotilla.migrations import upgrade_to_head
from flotilla.request_id import current_request_id
from flotilla.settings import Environment
from flotilla.testing.postgres import create_database, drop_database
from flotilla.testing.servers import serve_in_thread
from flotilla.testing.settings import settings_for_test
from gateway.main import create_app as create_gateway
from gateway.settings import GatewaySettings
from items.main import create_app as create_items
from items.settings import ItemsSettings
from users.main import create_app as create_users
from users.settings import UsersSettings

from ..conftest import contract_upstreams

SERVICES_DIR = Path(__file__).resolve().parents[3]
LOG_WAIT_SECONDS = 5.0


def migrated_database(server_url: URL, service: str) -> tuple[str, str]:
    """A fresh database with ``service``'s migrations applied: (name, URL)."""
    name = f"gateway_it_{service}_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name).render_as_string(hide_password=False)
    upgrade_to_head(str(SERVICES_DIR / service / "alembic.ini"), url)
    return name, url


def users_settings(database_url: str, data_dir: Path) -> UsersSettings:
    signing_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return settings_for_test(
        UsersSettings,
        environment=Environment.TEST,
        database_url=database_url,
        signing_key=signing_key.decode(),
        data_dir=data_dir,
        # Argon2 at its cheapest: these tests are about the gateway.
        password_hash_memory_kib=1024,
        password_hash_time_cost=1,
        password_hash_parallelism=1,
    )


def items_settings(database_url: str, users_url: str) -> ItemsSettings:
    return settings_for_test(
        ItemsSettings,
        environment=Environment.TEST,
        database_url=database_url,
        jwks_url=f"{users_url}/api/v1/auth/jwks",
    )


def gateway_settings(users_url: str, items_url: str) -> GatewaySettings:
    return settings_for_test(
        GatewaySettings,
        environment=Environment.TEST,
        upstreams=contract_upstreams(users_url, items_url),
    )


@pytest.fixture(scope="session")
def users_url(postgres_server_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name, database_url = migrated_database(postgres_server_url, "users")
    settings = users_settings(database_url, tmp_path_factory.mktemp("users"))
    with serve_in_thread(create_users(settings)) as url:
        yield url
    drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def items_url(postgres_server_url: URL, users_url: str) -> Iterator[str]:
    name, database_url = migrated_database(postgres_server_url, "items")
    with serve_in_thread(create_items(items_settings(database_url, users_url))) as url:
        yield url
    drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def gateway_url(users_url: str, items_url: str) -> Iterator[str]:
    with serve_in_thread(create_gateway(gateway_settings(users_url, items_url))) as url:
        yield url


@dataclass(frozen=True)
class AccessLine:
    request_id: str | None
    route: str
    status: int


class AccessLog(logging.Handler):
    """Every access-log line written in this process, with the request id it carried.

    All apps share this process (and so the root logger's ``service`` field):
    a line's route tells whose it is. The gateway labels proxied requests
    with the routing prefix (``/api/v1/items``), a service with its route
    template (``/api/v1/items/``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[AccessLine] = []

    def emit(self, record: logging.LogRecord) -> None:
        route = getattr(record, "route", "")
        status = getattr(record, "status", 0)
        self.lines.append(AccessLine(current_request_id(), route, status))

    def routes_logged_for(self, request_id: str, *, expected: int) -> list[str]:
        """Routes of the lines with ``request_id``, once ``expected`` of them were written.

        A service writes its line after sending its response, so it may
        still be on its way when the client has the answer.
        """
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        while True:
            routes = [line.route for line in self.lines if line.request_id == request_id]
            if len(routes) >= expected or time.monotonic() > deadline:
                return routes
            time.sleep(0.01)


@pytest.fixture
def access_log() -> Iterator[AccessLog]:
    handler = AccessLog()
    logger = logging.getLogger("flotilla.access")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
