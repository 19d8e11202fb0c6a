"""``nox -s template-check``: every templated service still has the template's files as rendered.

For each ``services/<name>/.copier-answers.yml`` it renders the template again
with those answers and compares the files the template owns
(``templates/service/owned.txt``); any difference is printed as a diff and
fails the check.
"""

import contextlib
import difflib
import sys
import tempfile
from pathlib import Path

import copier
import yaml

from flotilla.devstack.registry import REPO_ROOT
from scaffold.new_service import TEMPLATE

ANSWERS = ".copier-answers.yml"


def owned_files(root: Path, package: str) -> list[str]:
    lines = (root / TEMPLATE / "owned.txt").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [pattern.format(package=package) for pattern in patterns]


def drift(root: Path, service_dir: Path) -> list[str]:
    """Unified diffs of the owned files that differ from a fresh rendering."""
    answers = yaml.safe_load((service_dir / ANSWERS).read_text())
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    package = str(data["name"]).replace("-", "_")
    diffs: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        rendered = Path(scratch) / service_dir.name
        with contextlib.chdir(root):
            copier.run_copy(str(TEMPLATE), str(rendered), data=data, quiet=True)
        for owned in owned_files(root, package):
            expected, actual = rendered / owned, service_dir / owned
            want = expected.read_text().splitlines(keepends=True) if expected.exists() else []
            have = actual.read_text().splitlines(keepends=True) if actual.exists() else []
            name = f"services/{service_dir.name}/{owned}"
            diffs += difflib.unified_diff(want, have, f"template: {name}", name)
    return diffs


def main() -> None:
    templated = sorted(path.parent for path in REPO_ROOT.glob(f"services/*/{ANSWERS}"))
    failed = False
    for service_dir in templated:
        diffs = drift(REPO_ROOT, service_dir)
        failed |= bool(diffs)
        print(f"{service_dir.name}: {'DRIFTED' if diffs else 'as the template renders it'}")
        sys.stdout.writelines(diffs)
    if failed:
        sys.exit("template-check: change owned files in templates/service/, not in a service")


if __name__ == "__main__":
    main()
