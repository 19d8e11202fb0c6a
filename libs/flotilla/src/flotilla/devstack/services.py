"""What the dev stack runs: each service's app, port, database and environment."""

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[5]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port_variable: str
    default_port: int
    #: Database the service owns, or None (the gateway has none).
    database: str | None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(os.environ.get(self.port_variable, self.default_port))

    @property
    def app(self) -> str:
        return f"{self.name}.main:create_app"

    @property
    def alembic_ini(self) -> Path:
        return REPO_ROOT / "services" / self.name / "alembic.ini"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def stack(data_dir: Path) -> list[ServiceSpec]:
    users = ServiceSpec("users", "USERS_PORT", 8001, "flotilla_users")
    items = ServiceSpec("items", "ITEMS_PORT", 8002, "flotilla_items")
    gateway = ServiceSpec("gateway", "GATEWAY_PORT", 8000, None)
    users.env.update(
        USERS_DATA_DIR=str(data_dir / "users"),
        **{
            f"USERS_{name}": os.environ[name]
            for name in ("FIRST_ADMIN_EMAIL", "FIRST_ADMIN_PASSWORD")
            if name in os.environ
        },
    )
    items.env.update(ITEMS_JWKS_URL=f"{users.url}/api/v1/auth/jwks")
    gateway.env.update(GATEWAY_USERS_URL=users.url, GATEWAY_ITEMS_URL=items.url)
    return [users, items, gateway]
