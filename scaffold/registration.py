"""The registration lines a service needs where a file format has no glob.

Everything else finds services by itself (``services/*/``: the uv workspace,
the noxfile, ruff, mypy, the dev stack, the pipeline's ``include``). The root
``docker-compose.yml`` cannot: it gets one ``include:`` line per service and
one upstream line in the gateway's environment.
"""

import json
import re
from pathlib import Path

from flotilla.devstack.registry import Service

COMPOSE_FILE = "docker-compose.yml"
_INCLUDE_ITEM = re.compile(r"^  - \S.*$")
_UPSTREAM_LINE = re.compile(r"^      GATEWAY_UPSTREAMS__\w+: .*$")


def include_line(service: Service) -> str:
    return f"  - services/{service.name}/compose.yml"


def upstream_line(service: Service) -> str:
    upstream = {"url": f"http://{service.name}:8000", "routes": list(service.routes)}
    return f"      GATEWAY_UPSTREAMS__{service.package.upper()}: '{json.dumps(upstream)}'"


def _insert_after_last(lines: list[str], pattern: re.Pattern[str], new: str, what: str) -> None:
    positions = [i for i, line in enumerate(lines) if pattern.match(line)]
    if not positions:
        raise ValueError(f"{COMPOSE_FILE} has no {what} to add to")
    lines.insert(positions[-1] + 1, new)


def register(root: Path, service: Service) -> list[str]:
    """Add the service's lines to the root compose file; returns them."""
    path = root / COMPOSE_FILE
    lines = path.read_text().splitlines()
    include_end = lines.index("services:")  # the include block comes before the services
    head, tail = lines[:include_end], lines[include_end:]
    added = [include_line(service), upstream_line(service)]
    _insert_after_last(head, _INCLUDE_ITEM, added[0], "include: list")
    _insert_after_last(tail, _UPSTREAM_LINE, added[1], "GATEWAY_UPSTREAMS__ line")
    path.write_text("\n".join(head + tail) + "\n")
    return added
