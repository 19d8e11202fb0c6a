#!/usr/bin/env bash
# `nox -s new-service` proven in a scratch clone: add a service `orders`, then lint,
# typecheck and test it, check that the launcher the dev stack and the drills (bench,
# chaos, soak) share starts it on its own migrated database, run the e2e suite on the dev
# stack (register, log in, create and read an orders resource through the gateway), render
# the compose file and validate the pipeline with it; `git status` must show only the
# service and its registration lines.
# A bad name must write nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-new-service.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$SECONDS
step() { printf '[new-service-check] %s (%ds)\n' "$1" $((SECONDS - started)); }

git clone --quiet "$ROOT" "$scratch/repo"
cd "$scratch/repo"

if nox -s new-service -- Orders! >"$scratch/refused.log" 2>&1; then
    echo "a bad name was accepted" >&2
    exit 1
fi
grep -F "new-service: 'Orders!' must match" "$scratch/refused.log"
test -z "$(git status --porcelain)" || { git status --short >&2; exit 1; }
step "a bad name is refused and writes nothing"

nox -s new-service -- orders
expected=$'?? services/orders/\n M deploy/k8s/base/kustomization.yaml\n M docker-compose.yml\n M uv.lock'
actual=$(git status --porcelain --untracked-files=normal | sort -k2)
if [[ $actual != "$(sort -k2 <<<"$expected")" ]]; then
    printf 'unexpected changes:\n%s\n' "$actual" >&2
    exit 1
fi
git diff --unified=0 docker-compose.yml deploy/k8s/base/kustomization.yaml | grep '^+ '
step "new-service wrote services/orders/, two docker-compose.yml lines, one k8s line, uv.lock"

nox -s lint typecheck
TEST_DB_PROVIDER=embedded nox -s "tests-3.11(package='orders')"
step "lint, typecheck and the orders tests pass"

TEST_DB_PROVIDER=embedded nox -s "tests-3.11(package='flotilla')" -- \
    tests/unit/test_devstack_launch.py tests/integration/test_devstack_databases.py
step "the launcher of the dev stack and the drills starts orders, on its own migrated database"

nox -s template-check
nox -s e2e -- tests_e2e/test_sample_resources.py tests_e2e/test_journeys.py
step "e2e on the dev stack: an orders resource created and read through the gateway"

docker compose config --quiet
docker compose config --services | grep -qx orders
nox -s manifests
VALIDATE_PIPELINE_JOB='' bash ci/validate-pipeline.sh
step "compose config and the pipeline validation include orders"
