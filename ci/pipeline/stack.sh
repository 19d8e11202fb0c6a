#!/usr/bin/env bash
# The compose stack that the e2e and DAST jobs test, in the job's dind engine.
# The job sets COMPOSE_FILE (docker-compose.yml + ci/pipeline/compose.ci.yml),
# COMPOSE_PROJECT_NAME, FLOTILLA_IMAGE_TAG=$CI_COMMIT_SHA and GATEWAY_URL.
#
#   stack.sh up     pull this pipeline's images, start the stack, wait until the gateway is ready
#   stack.sh down   (after_script) if the job did not succeed, print the containers and their
#                   logs (also saved to build/reports/compose.log); then remove it with its volumes
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-120}

up() {
    bash "$HERE/images.sh" pull
    docker compose up --detach --no-build --wait --wait-timeout "$READY_TIMEOUT_SECONDS"
    local deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
    until curl --silent --fail --max-time 2 "${GATEWAY_URL:?}/readyz" >/dev/null; do
        if ((SECONDS > deadline)); then
            echo "the gateway at $GATEWAY_URL was not ready within ${READY_TIMEOUT_SECONDS}s" >&2
            return 1
        fi
        sleep 1
    done
    echo "stack ready at $GATEWAY_URL"
}

down() {
    if [[ ${CI_JOB_STATUS:-failed} != success ]]; then
        mkdir -p build/reports
        docker compose ps --all || true
        docker compose logs --no-color --timestamps 2>&1 | tee build/reports/compose.log || true
    fi
    docker compose down --volumes --remove-orphans
}

case ${1:-} in
    up) up ;;
    down) down ;;
    *)
        echo "usage: stack.sh up | down" >&2
        exit 2
        ;;
esac
