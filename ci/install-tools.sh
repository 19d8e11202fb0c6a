#!/usr/bin/env bash
# Install the bootstrap tools (nox, uv) pinned in ci/tools.txt into the machine's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r ci/tools.txt
nox --version
uv --version
