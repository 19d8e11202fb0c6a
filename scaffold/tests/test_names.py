"""Which names ``nox -s new-service`` refuses, and that a refusal writes nothing."""

import shutil
from pathlib import Path

import pytest

from flotilla.devstack.registry import REPO_ROOT, discover
from scaffold.new_service import RefusedError, check_name, new_service


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Orders!", "must match"),
        ("Orders", "must match"),
        ("1orders", "must match"),
        ("-orders", "must match"),
        ("order_lines", "must match"),
        ("class", "Python keyword"),
        ("match", "Python keyword"),
        ("email", "standard-library module"),
        ("asyncio", "standard-library module"),
        ("jwt", "package in uv.lock"),
        ("sqlalchemy", "package in uv.lock"),
        ("items", "existing service"),
        ("users", "existing service"),
        ("gateway", "existing service"),
        ("docs", "reserved for the gateway"),
        ("healthz", "reserved for the gateway"),
        ("auth", "already routed"),
    ],
)
def test_a_name_that_cannot_be_a_service_is_refused(name: str, reason: str) -> None:
    with pytest.raises(RefusedError, match=reason):
        check_name(name, REPO_ROOT, discover())


@pytest.mark.parametrize("name", ["sample-fresh", "sample-fresh2", "s9"])
def test_a_fresh_lower_case_name_is_accepted(name: str) -> None:
    check_name(name, REPO_ROOT, discover())


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["Orders!", "email", "auth"])
def test_a_refused_name_writes_nothing(name: str, tmp_path: Path) -> None:
    for service in discover():
        target = tmp_path / "services" / service.name
        target.mkdir(parents=True)
        shutil.copy2(service.directory / "pyproject.toml", target / "pyproject.toml")
    for shared in ("uv.lock", "docker-compose.yml", "deploy/k8s/base/kustomization.yaml"):
        (tmp_path / shared).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / shared, tmp_path / shared)
    before = snapshot(tmp_path)

    with pytest.raises(RefusedError):
        new_service(name, root=tmp_path)

    assert snapshot(tmp_path) == before
