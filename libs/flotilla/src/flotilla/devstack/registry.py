"""The services of a checkout: every ``services/<name>/`` with a ``[tool.flotilla]`` table.

A service registers itself by existing: its folder and the table in its
``pyproject.toml`` are all that the dev stack, the noxfile and the pipeline
need to know about it. The gateway is the service named ``gateway``; every
other service is one of its upstreams.
"""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

#: The checkout this library is installed from (editable, as ``uv sync`` installs it).
REPO_ROOT = Path(__file__).resolve().parents[5]
GATEWAY = "gateway"


@dataclass(frozen=True)
class Service:
    #: The folder's name; also its URL segment and its compose service (``order-lines``).
    name: str
    directory: Path
    #: Its port on the dev stack (``<PREFIX>_PORT`` overrides).
    default_port: int
    #: Whether it owns a database (of the same name as its package).
    has_database: bool
    #: Path prefixes the gateway sends to it.
    routes: tuple[str, ...]

    @property
    def package(self) -> str:
        """The Python package (``order_lines``); also its database's name."""
        return self.name.replace("-", "_")

    @property
    def env_prefix(self) -> str:
        """The prefix of its settings' environment variables (``ORDER_LINES_``)."""
        return f"{self.package.upper()}_"

    @property
    def port(self) -> int:
        return int(os.environ.get(f"{self.env_prefix}PORT", self.default_port))

    @property
    def alembic_ini(self) -> Path:
        return self.directory / "alembic.ini"

    @property
    def is_gateway(self) -> bool:
        return self.name == GATEWAY


def discover(root: Path = REPO_ROOT) -> list[Service]:
    """Every service under ``root/services``, by name, the gateway last."""
    services = []
    for pyproject in sorted((root / "services").glob("*/pyproject.toml")):
        table = tomllib.loads(pyproject.read_text()).get("tool", {}).get("flotilla")
        if table is None:
            continue
        services.append(
            Service(
                name=pyproject.parent.name,
                directory=pyproject.parent,
                default_port=int(table["port"]),
                has_database=bool(table.get("database", False)),
                routes=tuple(table.get("routes", ())),
            )
        )
    return sorted(services, key=lambda service: (service.is_gateway, service.name))
