"""What the template renders for a new service."""

import tomllib
from pathlib import Path

from flotilla.devstack.registry import REPO_ROOT, discover
from scaffold.new_service import render


def test_a_dashed_name_renders_a_valid_package_and_keeps_the_dash_in_its_url(
    tmp_path: Path,
) -> None:
    (tmp_path / "templates").symlink_to(REPO_ROOT / "templates")

    service_dir = render(tmp_path, "order-lines", 8010)

    pyproject = tomllib.loads((service_dir / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "order-lines"
    assert pyproject["tool"]["flotilla"] == {
        "port": 8010,
        "database": True,
        "routes": ["/api/v1/order-lines"],
    }
    assert (service_dir / "src" / "order_lines" / "main.py").is_file()
    api = (service_dir / "src" / "order_lines" / "api.py").read_text()
    assert 'prefix="/api/v1/order-lines"' in api
    [found] = discover(tmp_path)
    assert (found.name, found.package, found.env_prefix) == (
        "order-lines",
        "order_lines",
        "ORDER_LINES_",
    )
