#!/usr/bin/env bash
# Deploy this pipeline's images, by commit SHA, to a GitLab environment's Docker host.
#
#   deploy.sh up        run the images of $CI_COMMIT_SHA as environment $CI_ENVIRONMENT_SLUG
#   deploy.sh down      stop the environment and delete its volumes (a closed review app)
#   deploy.sh rollback  run the release before the current one again (or $ROLLBACK_SHA)
#
# The host is DEPLOY_HOST (an environment-scoped CI/CD variable), reached over SSH as
# DEPLOY_USER (default deploy) with the key in DEPLOY_SSH_KEY (a file variable), checked
# against DEPLOY_SSH_KNOWN_HOSTS. Each environment is a compose project in
# ~/flotilla/<environment>/ on the host: docker-compose.yml and ci/compose/ from this
# commit, plus DEPLOY_ENV_FILE (a file variable: the services' settings and secrets) as
# its .env. The gateway listens on the host's loopback at GATEWAY_PORT, behind the
# host's TLS proxy for $CI_ENVIRONMENT_URL. The deployed SHAs are kept in
# ~/flotilla/<environment>.releases, newest last.
# Without DEPLOY_HOST nothing is contacted: every command is printed instead (a dry run).
set -euo pipefail

SERVICES=(users items gateway)
: "${CI_ENVIRONMENT_SLUG:?run from a job with an environment}" "${CI_REGISTRY_IMAGE:?}"
PROJECT=flotilla-$CI_ENVIRONMENT_SLUG
DIR=flotilla/$CI_ENVIRONMENT_SLUG
RELEASES=flotilla/$CI_ENVIRONMENT_SLUG.releases
DEPLOY_USER=${DEPLOY_USER:-deploy}
TARGET=$DEPLOY_USER@${DEPLOY_HOST:-DEPLOY_HOST}
DRY_RUN=0
[[ -n ${DEPLOY_HOST:-} ]] || DRY_RUN=1

run() {
    if ((DRY_RUN)); then printf '+ %s\n' "$*"; else "$@"; fi
}

on_host() { run ssh "$TARGET" "$@"; }

connect() {
    if ((DRY_RUN)); then
        echo "DEPLOY_HOST is not set for ${CI_ENVIRONMENT_NAME:-$CI_ENVIRONMENT_SLUG}: dry run"
        return
    fi
    install -d -m 700 ~/.ssh
    printf '%s\n' "${DEPLOY_SSH_KNOWN_HOSTS:?}" >>~/.ssh/known_hosts
    chmod 600 "${DEPLOY_SSH_KEY:?}"
    eval "$(ssh-agent -s)" >/dev/null
    ssh-add -q "$DEPLOY_SSH_KEY"
}

gateway_port() {
    case $CI_ENVIRONMENT_SLUG in
        production) echo 8000 ;;
        staging) echo 8001 ;;
        *) echo $((20000 + ${CI_MERGE_REQUEST_IID:-0} % 10000)) ;;
    esac
}

# The compose project on the host: this commit's compose file and the files it mounts.
upload() {
    on_host "mkdir -p $DIR/ci"
    run scp -q docker-compose.yml "$TARGET:$DIR/"
    run scp -q -r ci/compose "$TARGET:$DIR/ci/"
    if [[ -n ${DEPLOY_ENV_FILE:-} ]]; then run scp -q "$DEPLOY_ENV_FILE" "$TARGET:$DIR/.env"; fi
}

compose() { # sha compose-arguments...
    local sha=$1
    shift
    on_host "cd $DIR && FLOTILLA_IMAGE_TAG=$sha GATEWAY_PORT=$(gateway_port)" \
        "docker compose --project-name $PROJECT $*"
}

deploy() { # sha
    local sha=$1 service pulls=()
    upload
    if ((DRY_RUN)); then
        echo "+ ssh $TARGET docker login ${CI_REGISTRY:-\$CI_REGISTRY} (password on stdin)"
    else
        printf '%s' "${CI_REGISTRY_PASSWORD:?}" |
            on_host "docker login --username ${CI_REGISTRY_USER:?} --password-stdin ${CI_REGISTRY:?}"
    fi
    for service in "${SERVICES[@]}"; do
        pulls+=("docker pull --quiet $CI_REGISTRY_IMAGE/$service:$sha &&")
        pulls+=("docker tag $CI_REGISTRY_IMAGE/$service:$sha flotilla/$service:$sha &&")
    done
    on_host "${pulls[@]}" true
    compose "$sha" up --detach --no-build --wait --remove-orphans
}

up() {
    connect
    deploy "${CI_COMMIT_SHA:?}"
    on_host "echo $CI_COMMIT_SHA >>$RELEASES"
    echo "deployed $CI_COMMIT_SHA to ${CI_ENVIRONMENT_URL:-$CI_ENVIRONMENT_SLUG}"
}

down() {
    connect
    compose "${CI_COMMIT_SHA:?}" down --volumes --remove-orphans
    on_host "rm -rf $DIR $RELEASES"
    echo "stopped $CI_ENVIRONMENT_SLUG"
}

rollback() {
    connect
    local target=${ROLLBACK_SHA:-}
    if [[ -n $target ]]; then
        deploy "$target"
        on_host "echo $target >>$RELEASES"
    else
        if ((DRY_RUN)); then
            target=PREVIOUS_RELEASE
        else
            local last_two
            mapfile -t last_two < <(on_host "tail -n 2 $RELEASES")
            if ((${#last_two[@]} < 2)); then
                echo "no earlier release recorded in ~/$RELEASES on $DEPLOY_HOST" >&2
                return 1
            fi
            target=${last_two[0]}
        fi
        deploy "$target"
        # The releases file is a stack: rolling back drops the current release.
        on_host "sed -i '\$d' $RELEASES"
    fi
    echo "rolled $CI_ENVIRONMENT_SLUG back to $target"
}

case ${1:-} in
    up) up ;;
    down) down ;;
    rollback) rollback ;;
    *)
        echo "usage: deploy.sh up | down | rollback" >&2
        exit 2
        ;;
esac
