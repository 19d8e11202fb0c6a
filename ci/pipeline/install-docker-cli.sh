#!/usr/bin/env bash
# Install Docker's CLI with its compose and buildx plugins (and curl) into a
# Debian-based CI image such as python:3.11-slim, from Docker's apt repository
# as Docker documents it. The engine itself is the job's docker:dind service.
set -euo pipefail

if docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates curl >/dev/null
install -m 0755 -d /etc/apt/keyrings
curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc]" \
    "https://download.docker.com/linux/debian $codename stable" >/etc/apt/sources.list.d/docker.list
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    docker-ce-cli docker-compose-plugin docker-buildx-plugin >/dev/null
docker --version
docker compose version
