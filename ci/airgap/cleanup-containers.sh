#!/usr/bin/env bash
# Remove containers (and their anonymous volumes) left behind by Testcontainers.
# Ryuk, its usual reaper, is disabled on air-gapped CI because its image can't be pulled.
set -euo pipefail

if ! docker info >/dev/null 2>&1; then
    echo "[cleanup-containers] no Docker engine; nothing to do"
    exit 0
fi
mapfile -t ids < <(docker ps -aq --filter label=org.testcontainers=true)
if ((${#ids[@]})); then
    docker rm -f -v "${ids[@]}" >/dev/null
fi
echo "[cleanup-containers] removed ${#ids[@]} Testcontainers container(s)"
