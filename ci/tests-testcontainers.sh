#!/usr/bin/env bash
# The README's test command, with the test Postgres from Testcontainers on the local engine.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DB_PROVIDER=testcontainers
export TEST_POSTGRES_IMAGE=local/postgres:15
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_CONNECTION_MODE=docker_host
trap ci/airgap/cleanup-containers.sh EXIT
nox -s tests-3.11
