#!/usr/bin/env bash
# The container stack, proven end to end: build the images (nox -s build), `docker compose up`
# without pulling, run the unchanged tests_e2e suite against the gateway, show that data
# survives `down` + `up`, and leave nothing behind (`down -v`, on failure too, after the logs).
#
#   bash ci/compose-e2e.sh          (CI runs it from .ci/run, as root; needs nox on PATH)
#
# Base images default to the air-gapped stand-ins, made here with ci/airgap/ (which also
# starts a Docker engine if none answers; .ci/run stops it). Elsewhere, run it on the
# official images with PYTHON_IMAGE=python:3.12-slim POSTGRES_IMAGE=postgres:17.
# It uses its own compose project, flotilla-ci, so a developer's own stack is never touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export COMPOSE_PROJECT_NAME=flotilla-ci
export COMPOSE_FILE=$ROOT/docker-compose.yml
export PYTHON_IMAGE=${PYTHON_IMAGE:-local/python:3.11-slim}
export POSTGRES_IMAGE=${POSTGRES_IMAGE:-local/postgres:15}
export DOCKER_BUILD_NETWORK=${DOCKER_BUILD_NETWORK:-host}
FLOTILLA_IMAGE_TAG=${FLOTILLA_IMAGE_TAG:-$(git rev-parse --short=12 HEAD)}
export FLOTILLA_IMAGE_TAG
GATEWAY_PORT=${GATEWAY_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export GATEWAY_PORT
export GATEWAY_URL=http://127.0.0.1:$GATEWAY_PORT
export FIRST_ADMIN_EMAIL=${FIRST_ADMIN_EMAIL:-ci-admin@example.com}
export FIRST_ADMIN_PASSWORD=${FIRST_ADMIN_PASSWORD:-ci-admin-password}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-180}


log() { echo "[compose-e2e] $*"; }

# Seconds since $1 (an $EPOCHREALTIME), to 0.1 s.
seconds_since() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'; }

# `up` until every service is healthy (the migrations have exited 0); seconds in UP_SECONDS.
up_and_wait() {
    local start=$EPOCHREALTIME
    docker compose up --detach --wait --wait-timeout "$WAIT_TIMEOUT" --no-build --pull never
    UP_SECONDS=$(seconds_since "$start")
}

on_exit() {
    local status=$?
    if ((status != 0)); then
        log "FAILED (exit $status); the stack's state and logs follow"
        docker compose ps --all || true
        docker compose logs --no-color --timestamps || true
    fi
    docker compose down --volumes --remove-orphans --timeout 10 || true
    rm -f "${STATE_FILE:-}"
    exit "$status"
}

if [[ $PYTHON_IMAGE == local/* || $POSTGRES_IMAGE == local/* ]]; then
    bash ci/airgap/dockerd-start.sh
    bash ci/airgap/build-base-images.sh
fi
command -v nox >/dev/null || { echo "nox is not on PATH (pip install nox uv)" >&2; exit 1; }

log "the opt-in tracing profile is a valid compose file (its Jaeger image needs a registry)"
OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 docker compose --profile tracing config --quiet

log "building flotilla/<service>:$FLOTILLA_IMAGE_TAG for every service on $PYTHON_IMAGE"
nox -s build
sizes=$(docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' \
    --filter "reference=flotilla/*:$FLOTILLA_IMAGE_TAG" | sort | sed 's/^/  /')

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
STATE_FILE=$(mktemp /tmp/flotilla-persistence.XXXXXX)
docker compose down --volumes --remove-orphans >/dev/null 2>&1 # a previous run's leftovers

log "up (empty volumes, postgres $POSTGRES_IMAGE, gateway on $GATEWAY_URL)"
up_and_wait
cold_seconds=$UP_SECONDS
docker compose ps --all
log "up -> healthy: $cold_seconds s"

python3 ci/compose/persistence.py write "$STATE_FILE"

log "tests_e2e against $GATEWAY_URL (the outage test stops items last)"
E2E_STOP_ITEMS="docker compose stop items" nox -s e2e -- --junitxml=build/reports/junit-e2e-compose.xml

log "down (volumes kept), then up again"
docker compose down --timeout 10
up_and_wait
warm_seconds=$UP_SECONDS
log "up -> healthy after the restart: $warm_seconds s"
python3 ci/compose/persistence.py check "$STATE_FILE"

log "down -v"
docker compose down --volumes --remove-orphans --timeout 10
trap - EXIT
rm -f "$STATE_FILE"
project_filter=label=com.docker.compose.project=$COMPOSE_PROJECT_NAME
if [[ -n $(docker ps --all --quiet --filter "$project_filter") || -n $(docker volume ls --quiet --filter "$project_filter") ]]; then
    echo "[compose-e2e] containers or volumes of $COMPOSE_PROJECT_NAME are left behind" >&2
    exit 1
fi

cat <<EOF

==== compose e2e: passed ====
images (base $PYTHON_IMAGE):
$sizes
up -> healthy, empty volumes:     $cold_seconds s
up -> healthy, after down + up:   $warm_seconds s
tests_e2e:                        passed
data across down + up:            kept (login, item, pre-restart token)
left running:                     nothing (down -v)
EOF
