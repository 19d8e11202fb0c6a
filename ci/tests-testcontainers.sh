#!/usr/bin/env bash
# The README's test command, with the test Postgres from Testcontainers on the local engine.
# The provider is forced, so a broken Testcontainers setup fails here instead of falling
# back to the embedded Postgres; every package's pytest header must name Testcontainers.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DB_PROVIDER=testcontainers
export TEST_POSTGRES_IMAGE=local/postgres:15
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_CONNECTION_MODE=docker_host
trap ci/airgap/cleanup-containers.sh EXIT
log=$(mktemp)
nox -s tests-3.11 2>&1 | tee "$log"
expected="flotilla test Postgres provider: testcontainers ($TEST_POSTGRES_IMAGE)"
sessions=$(grep -c "^nox > Running session tests-3.11" "$log")
headers=$(grep -cxF "$expected" "$log" || true)
rm -f "$log"
if ((headers != sessions)); then
    echo "expected '$expected' in each of $sessions pytest headers, found it $headers times" >&2
    exit 1
fi
echo "all $sessions sessions ran on Testcontainers"
