#!/usr/bin/env bash
# /docs and /redoc rendered offline in Debian's headless Chromium (see nox -s docs-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
    apt-cache show chromium >/dev/null 2>&1 || apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
nox -s docs-browser
