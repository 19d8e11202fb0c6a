#!/usr/bin/env bash
# This pipeline's service images in the GitLab container registry, by commit SHA.
#
#   images.sh push SERVICE  push flotilla/SERVICE:$CI_COMMIT_SHA (made by `nox -s build`) as
#                           $CI_REGISTRY_IMAGE/SERVICE:$CI_COMMIT_SHA; on the default branch
#                           also move $CI_REGISTRY_IMAGE/SERVICE:$CI_DEFAULT_BRANCH to it
#   images.sh reuse SERVICE give a service this merge request did not rebuild the tag
#                           :$CI_COMMIT_SHA too, copied in the registry from :$CI_DEFAULT_BRANCH
#   images.sh pull          pull every service (services/*/) at :$CI_COMMIT_SHA and tag them
#                           flotilla/SERVICE:$CI_COMMIT_SHA, the names docker-compose.yml runs
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SERVICES=()
for pyproject in services/*/pyproject.toml; do
    SERVICES+=("$(basename "$(dirname "$pyproject")")")
done
: "${CI_REGISTRY:?}" "${CI_REGISTRY_IMAGE:?}" "${CI_COMMIT_SHA:?}"

login() {
    printf '%s' "${CI_REGISTRY_PASSWORD:?}" |
        docker login --username "${CI_REGISTRY_USER:?}" --password-stdin "$CI_REGISTRY" >/dev/null
}

exists() { docker buildx imagetools inspect "$1" >/dev/null 2>&1; }

push() {
    local service=$1 local_image remote
    local_image=flotilla/$service:$CI_COMMIT_SHA
    remote=$CI_REGISTRY_IMAGE/$service
    docker tag "$local_image" "$remote:$CI_COMMIT_SHA"
    docker push --quiet "$remote:$CI_COMMIT_SHA"
    if [[ -n ${CI_COMMIT_BRANCH:-} && $CI_COMMIT_BRANCH == "${CI_DEFAULT_BRANCH:-}" ]]; then
        docker tag "$local_image" "$remote:$CI_DEFAULT_BRANCH"
        docker push --quiet "$remote:$CI_DEFAULT_BRANCH"
    fi
    echo "pushed $remote:$CI_COMMIT_SHA"
}

reuse() {
    local service=$1 remote
    remote=$CI_REGISTRY_IMAGE/$service
    if exists "$remote:${CI_DEFAULT_BRANCH:?}"; then
        docker buildx imagetools create --tag "$remote:$CI_COMMIT_SHA" "$remote:$CI_DEFAULT_BRANCH"
        echo "$service: unchanged, reusing $remote:$CI_DEFAULT_BRANCH"
    else
        echo "$service: no image from $CI_DEFAULT_BRANCH; run a pipeline on $CI_DEFAULT_BRANCH first" >&2
        return 1
    fi
}

pull() {
    local service remote
    for service in "${SERVICES[@]}"; do
        remote=$CI_REGISTRY_IMAGE/$service:$CI_COMMIT_SHA
        docker pull --quiet "$remote"
        docker tag "$remote" "flotilla/$service:$CI_COMMIT_SHA"
    done
}

case ${1:-} in
    push) login && push "${2:?usage: images.sh push SERVICE}" ;;
    reuse) login && reuse "${2:?usage: images.sh reuse SERVICE}" ;;
    pull) login && pull ;;
    *)
        echo "usage: images.sh push SERVICE | reuse SERVICE | pull" >&2
        exit 2
        ;;
esac
