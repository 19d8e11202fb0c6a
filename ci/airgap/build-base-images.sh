#!/usr/bin/env bash
# Build the local base images that stand in for Docker Hub on air-gapped CI:
# local/debian:bookworm (debootstrap), local/python:3.11 and local/postgres:15.
# Idempotent: an image is built only if missing or its recipe changed (FORCE=1 rebuilds).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CA_DIR=/usr/local/share/ca-certificates
FORCE=${FORCE:-0}

log() { echo "[build-base-images] $*"; }

# The Debian mirror this machine's apt already uses (override: FLOTILLA_DEBIAN_MIRROR).
apt_mirror() {
    local uri
    uri=$(awk '$1 == "URIs:" { print $2 }' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -v -- '-security' | head -n1 || true)
    if [[ -z $uri ]]; then
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            grep -v -- '-security' | head -n1 || true)
    fi
    if [[ -z $uri ]]; then
        echo "no Debian mirror in the apt sources; set FLOTILLA_DEBIAN_MIRROR" >&2
        return 1
    fi
    echo "$uri"
}

# Hash of a recipe directory, stored as a label so an edited recipe triggers a rebuild.
recipe_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16; }

needs_build() { # image [hash]
    ((FORCE)) && return 0
    docker image inspect "$1" >/dev/null 2>&1 || return 0
    [[ -z ${2:-} ]] && return 1
    [[ $(docker image inspect -f '{{ index .Config.Labels "flotilla.recipe" }}' "$1") != "$2" ]]
}

build_debian() {
    local image=local/debian:bookworm mirror rootfs
    if ! needs_build "$image"; then log "$image present"; return; fi
    mirror=${FLOTILLA_DEBIAN_MIRROR:-$(apt_mirror)}
    rootfs=$(mktemp -d /var/tmp/flotilla-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' RETURN
    log "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >/dev/null
    {
        echo "deb $mirror bookworm main"
        echo "deb $mirror bookworm-updates main"
        if [[ $mirror == */debian || $mirror == */debian/ ]]; then echo "deb ${mirror%/}-security bookworm-security main"; fi
    } >"$rootfs/etc/apt/sources.list"
    # Slim like the official images: no recommends, no docs/man pages, no service starts.
    echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/90flotilla-no-recommends"
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
        'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
        'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
        >"$rootfs/etc/dpkg/dpkg.cfg.d/90flotilla-slim"
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d" && chmod +x "$rootfs/usr/sbin/policy-rc.d"
    # Trust this machine's extra CAs (a TLS-intercepting proxy); they live only in the image.
    if compgen -G "$CA_DIR/*.crt" >/dev/null; then cp "$CA_DIR"/*.crt "$rootfs/usr/local/share/ca-certificates/"; fi
    chroot "$rootfs" update-ca-certificates >/dev/null
    # What the dpkg excludes above would have skipped, and caches.
    find "$rootfs"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
    tar -C "$rootfs" --numeric-owner -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' - "$image" >/dev/null
    log "built $image"
}

build_from_dir() { # image dir [extra tags...]
    local image=$1 dir=$2 hash tag
    shift 2
    # The base image's ID is part of the hash: a rebuilt local/debian rebuilds its children.
    hash=$(recipe_hash "$dir")-$(docker image inspect -f '{{.Id}}' local/debian:bookworm | cut -c8-19)
    if needs_build "$image" "$hash"; then
        local build_log=/tmp/flotilla-build-${image//[\/:]/-}.log
        log "building $image (log: $build_log)"
        if ! docker build --network host --label "flotilla.recipe=$hash" -t "$image" "$dir" >"$build_log" 2>&1; then
            tail -n 30 "$build_log" >&2
            exit 1
        fi
        log "built $image"
    else
        log "$image present"
    fi
    for tag in "$@"; do docker tag "$image" "$tag"; done
}

docker info >/dev/null 2>&1 || { echo "no Docker engine; run ci/airgap/dockerd-start.sh first" >&2; exit 1; }
build_debian
# local/python:3.11-slim is the tag to pass as BASE where python:3.12-slim is the default.
build_from_dir local/python:3.11 "$HERE/python" local/python:3.11-slim
build_from_dir local/postgres:15 "$HERE/postgres"
docker image ls --filter reference='local/*'
