#!/usr/bin/env bash
# Stop the dockerd that ci/airgap/dockerd-start.sh started (PID in /tmp/flotilla-dockerd.pid).
# A daemon this script family didn't start (no pid file) is left running.
set -euo pipefail

PID_FILE=/tmp/flotilla-dockerd.pid

if [[ ! -f $PID_FILE ]]; then
    echo "[dockerd-stop] no $PID_FILE: dockerd was not started by dockerd-start.sh; leaving it alone"
    exit 0
fi
pid=$(<"$PID_FILE")
# Guard against a stale file whose PID now belongs to another process.
if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "[dockerd-stop] dockerd $pid still running after 30 s; sending SIGKILL" >&2
        kill -KILL "$pid"
    fi
    echo "[dockerd-stop] stopped dockerd $pid"
else
    echo "[dockerd-stop] dockerd $pid is not running"
fi
rm -f "$PID_FILE"
