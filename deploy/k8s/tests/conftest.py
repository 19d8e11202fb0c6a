"""Every overlay rendered once with ``kubectl kustomize``, as parsed objects."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

OVERLAYS_DIR = Path(__file__).parents[1] / "overlays"
OVERLAYS = sorted(path.name for path in OVERLAYS_DIR.iterdir() if path.is_dir())

Manifest = dict[str, Any]


def render(overlay: str) -> list[Manifest]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is needed to render the overlays (ci/install-tools.sh installs it)")
    rendered = subprocess.run(  # noqa: S603 (kubectl from PATH, our own overlay path)
        [kubectl, "kustomize", str(OVERLAYS_DIR / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}
