"""``nox -s new-service -- <name>``: render ``services/<name>/`` from the template and register it.

    python -m scaffold.new_service orders

A bad name is refused with one line and nothing is written. Afterwards the
service is in the tests, lint and typecheck, the dev stack, the gateway, the
compose stack and the pipeline; ``uv.lock`` is updated with ``uv lock``.
"""

import argparse
import contextlib
import importlib.metadata
import keyword
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import copier

from flotilla.devstack.registry import REPO_ROOT, Service, discover
from scaffold.registration import register

TEMPLATE = Path("templates") / "service"
NAME = re.compile(r"^[a-z][a-z0-9-]*$")
#: Paths the gateway answers itself, and the prefix every route lives under.
RESERVED = {"gateway", "api", "healthz", "readyz", "metrics", "docs", "redoc", "openapi"}
API_PREFIX = "/api/v1/"


class RefusedError(Exception):
    """A name that cannot be a service; the message says why, in one line."""


def _normalized(package: str) -> str:
    return re.sub(r"[-_.]+", "_", package).lower()


def locked_packages(root: Path) -> set[str]:
    """Every package ``uv.lock`` pins, normalized (``python-jose`` -> ``python_jose``), and
    the top-level modules they install here (``pyjwt`` installs ``jwt``)."""
    lock = tomllib.loads((root / "uv.lock").read_text())
    names = {_normalized(package["name"]) for package in lock.get("package", [])}
    return names | {_normalized(module) for module in importlib.metadata.packages_distributions()}


def taken_segments(services: list[Service]) -> set[str]:
    """The first segment after ``/api/v1/`` of every route a service serves (``auth``, ...)."""
    return {
        route.removeprefix(API_PREFIX).split("/")[0]
        for service in services
        for route in service.routes
        if route.startswith(API_PREFIX)
    }


def check_name(name: str, root: Path, services: list[Service]) -> None:
    """Raise :class:`RefusedError` unless ``name`` can be a new service."""
    if not NAME.fullmatch(name):
        raise RefusedError(f"{name!r} must match {NAME.pattern} (lower case, digits, dashes)")
    package = name.replace("-", "_")
    if (root / "services" / name).exists() or any(s.package == package for s in services):
        raise RefusedError(f"{name!r} is an existing service")
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        raise RefusedError(f"{name!r} is a Python keyword")
    if package in sys.stdlib_module_names:
        raise RefusedError(f"{name!r} is a standard-library module")
    if _normalized(package) in locked_packages(root):
        raise RefusedError(f"{name!r} is a package in uv.lock; its import would clash")
    if name in RESERVED:
        raise RefusedError(f"{name!r} is reserved for the gateway")
    if name in taken_segments(services):
        raise RefusedError(f"{API_PREFIX}{name} is already routed to another service")


def render(root: Path, name: str, port: int) -> Path:
    """``services/<name>/`` from the template; removed again if rendering fails."""
    destination = root / "services" / name
    try:
        # From the root, so the answers file records the template's path in the repo.
        with contextlib.chdir(root):
            copier.run_copy(
                str(TEMPLATE), str(destination), data={"name": name, "port": port}, quiet=True
            )
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return destination


def new_service(name: str, root: Path = REPO_ROOT) -> list[str]:
    """Render and register ``name``; returns what it wrote, for the report."""
    services = discover(root)
    check_name(name, root, services)
    port = max(service.default_port for service in services) + 1
    destination = render(root, name, port)
    service = next(s for s in discover(root) if s.name == name)
    lines = register(root, service)
    subprocess.run(["uv", "lock", "--quiet"], cwd=root, check=True)  # noqa: S607 (uv from PATH)
    return [
        f"created {destination.relative_to(root)}/ (dev stack port {port})",
        *(f"docker-compose.yml: added {line.strip()}" for line in lines[:2]),
        f"deploy/k8s/base/kustomization.yaml: added {lines[2].strip()}",
        "uv.lock: updated (uv lock)",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nox -s new-service --", description=__doc__)
    parser.add_argument("name", help="the service's name, e.g. orders or order-lines")
    name = parser.parse_args(argv).name
    try:
        report = new_service(name)
    except RefusedError as refused:
        sys.exit(f"new-service: {refused}; nothing was written")
    print("\n".join(report))
    print(
        f"Next: put the domain in services/{name}/src/{name.replace('-', '_')}/ "
        f"(models.py, repository.py, schemas.py, api.py) and its migrations in "
        f"services/{name}/migrations/versions/; README.md, 'Add a service'."
    )


if __name__ == "__main__":
    main()
