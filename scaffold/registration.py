"""The registration lines a service needs where a file format has no glob.

Everything else finds services by itself (``services/*/``: the uv workspace,
the noxfile, ruff, mypy, the dev stack, the pipeline's ``include``, the Swarm
stack and the deploy script). Two files cannot: the root ``docker-compose.yml``
gets one ``include:`` line per service and one upstream line in the gateway's
environment, and the Kubernetes base (``deploy/k8s/base/kustomization.yaml``)
one ``resources:`` line.
"""

import json
import re
from pathlib import Path

from flotilla.devstack.registry import Service

COMPOSE_FILE = "docker-compose.yml"
KUSTOMIZATION = "deploy/k8s/base/kustomization.yaml"
_INCLUDE_ITEM = re.compile(r"^  - \S.*$")
_UPSTREAM_LINE = re.compile(r"^      GATEWAY_UPSTREAMS__\w+: .*$")
_K8S_BASE_LINE = re.compile(r"^  - \.\./\.\./\.\./services/[^/]+/k8s$")


def include_line(service: Service) -> str:
    return f"  - services/{service.name}/compose.yml"


def upstream_line(service: Service) -> str:
    upstream = {"url": f"http://{service.name}:8000", "routes": list(service.routes)}
    return f"      GATEWAY_UPSTREAMS__{service.package.upper()}: '{json.dumps(upstream)}'"


def k8s_line(service: Service) -> str:
    return f"  - ../../../services/{service.name}/k8s"


def _insert_after_last(lines: list[str], pattern: re.Pattern[str], new: str, what: str) -> None:
    positions = [i for i, line in enumerate(lines) if pattern.match(line)]
    if not positions:
        raise ValueError(f"no {what} to add to")
    lines.insert(positions[-1] + 1, new)


def register(root: Path, service: Service) -> list[str]:
    """Add the service's lines to the root compose file and the Kubernetes base; returns them."""
    compose = root / COMPOSE_FILE
    lines = compose.read_text().splitlines()
    include_end = lines.index("services:")  # the include block comes before the services
    head, tail = lines[:include_end], lines[include_end:]
    added = [include_line(service), upstream_line(service), k8s_line(service)]
    _insert_after_last(head, _INCLUDE_ITEM, added[0], f"include: list in {COMPOSE_FILE}")
    _insert_after_last(
        tail, _UPSTREAM_LINE, added[1], f"GATEWAY_UPSTREAMS__ line in {COMPOSE_FILE}"
    )
    compose.write_text("\n".join(head + tail) + "\n")
    kustomization = root / KUSTOMIZATION
    lines = kustomization.read_text().splitlines()
    _insert_after_last(lines, _K8S_BASE_LINE, added[2], f"services/*/k8s line in {KUSTOMIZATION}")
    kustomization.write_text("\n".join(lines) + "\n")
    return added
