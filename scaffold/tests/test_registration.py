"""Every service is registered where a format has no glob: the root compose file."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flotilla.devstack.registry import REPO_ROOT, Service, discover
from scaffold.registration import KUSTOMIZATION, include_line, k8s_line, register, upstream_line

UPSTREAMS = [service for service in discover() if not service.is_gateway]


def compose(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((root / "docker-compose.yml").read_text())
    return document


def included_files(document: dict[str, Any]) -> set[str]:
    files: set[str] = set()
    for entry in document["include"]:
        path = entry["path"] if isinstance(entry, dict) else entry
        files |= {path} if isinstance(path, str) else set(path)
    return files


def test_services_are_found_in_the_filesystem() -> None:
    names = {path.parent.name for path in (REPO_ROOT / "services").glob("*/pyproject.toml")}

    assert {service.name for service in discover()} == names


@pytest.mark.parametrize("service", UPSTREAMS, ids=lambda s: s.name)
def test_every_service_is_included_in_the_compose_stack(service: Service) -> None:
    assert f"services/{service.name}/compose.yml" in included_files(compose(REPO_ROOT))


@pytest.mark.parametrize("service", UPSTREAMS, ids=lambda s: s.name)
def test_the_gateway_routes_every_service_as_its_table_says(service: Service) -> None:
    environment = compose(REPO_ROOT)["services"]["gateway"]["environment"]

    upstream = json.loads(environment[f"GATEWAY_UPSTREAMS__{service.package.upper()}"])

    assert upstream == {"url": f"http://{service.name}:8000", "routes": list(service.routes)}


@pytest.mark.parametrize("service", discover(), ids=lambda s: s.name)
def test_every_service_is_in_the_kubernetes_base(service: Service) -> None:
    kustomization = yaml.safe_load((REPO_ROOT / KUSTOMIZATION).read_text())

    assert f"../../../services/{service.name}/k8s" in kustomization["resources"]


def test_registering_adds_exactly_three_lines(tmp_path: Path) -> None:
    original = (REPO_ROOT / "docker-compose.yml").read_text()
    (tmp_path / "docker-compose.yml").write_text(original)
    base = (REPO_ROOT / KUSTOMIZATION).read_text()
    (tmp_path / KUSTOMIZATION).parent.mkdir(parents=True)
    (tmp_path / KUSTOMIZATION).write_text(base)
    orders = Service("order-lines", tmp_path, 8010, True, ("/api/v1/order-lines",))

    added = register(tmp_path, orders)

    after = (tmp_path / "docker-compose.yml").read_text().splitlines()
    assert added == [include_line(orders), upstream_line(orders), k8s_line(orders)]
    assert sorted(after) == sorted([*original.splitlines(), *added[:2]])
    kustomization = (tmp_path / KUSTOMIZATION).read_text()
    assert sorted(kustomization.splitlines()) == sorted([*base.splitlines(), added[2]])
    resources = yaml.safe_load(kustomization)["resources"]
    assert "../../../services/order-lines/k8s" in resources
    document = compose(tmp_path)
    assert "services/order-lines/compose.yml" in included_files(document)
    assert json.loads(
        document["services"]["gateway"]["environment"]["GATEWAY_UPSTREAMS__ORDER_LINES"]
    ) == {
        "url": "http://order-lines:8000",
        "routes": ["/api/v1/order-lines"],
    }
