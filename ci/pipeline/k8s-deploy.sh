#!/usr/bin/env bash
# Deploy this pipeline's images, by commit SHA, to a GitLab environment's Kubernetes
# namespace, through the GitLab agent for Kubernetes.
#
#   k8s-deploy.sh up        migrate, then roll every service out; fails unless every rollout
#                           completes (kubectl rollout status)
#   k8s-deploy.sh down      delete the environment's namespace (a closed review app)
#   k8s-deploy.sh rollback  kubectl rollout undo every service, then wait for the rollouts
#
# KUBE_CONTEXT is the agent's kubectl context (<agent's project path>:<agent name>). The
# overlay (deploy/k8s/overlays/) is the environment's tier: review/* environments use
# review, staging and production their own. The namespace is flotilla-$CI_ENVIRONMENT_SLUG
# (K8S_NAMESPACE overrides it). A service's secret settings come from the File variable
# <SERVICE>_SECRETS_ENV (e.g. USERS_SECRETS_ENV: USERS_DATABASE_URL=..., USERS_SIGNING_KEY=...),
# applied as the Secret <service>-secrets; without it the Secret must already exist.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${KUBE_CONTEXT:?set KUBE_CONTEXT to the context of the GitLab agent}"
: "${CI_ENVIRONMENT_NAME:?run from a job with an environment}" "${CI_ENVIRONMENT_SLUG:?}"
NAMESPACE=${K8S_NAMESPACE:-flotilla-$CI_ENVIRONMENT_SLUG}
ROLLOUT_TIMEOUT=${ROLLOUT_TIMEOUT:-300s}
MIGRATION_TIMEOUT=${MIGRATION_TIMEOUT:-600s}
case $CI_ENVIRONMENT_NAME in
    review/*) OVERLAY=review ;;
    staging | production) OVERLAY=$CI_ENVIRONMENT_NAME ;;
    *) echo "no overlay for environment $CI_ENVIRONMENT_NAME" >&2 && exit 2 ;;
esac

SERVICES=()
MIGRATED=()
for base in services/*/k8s; do
    service=$(basename "$(dirname "$base")")
    SERVICES+=("$service")
    if [[ -f $base/migration-job.yaml ]]; then MIGRATED+=("$service"); fi
done

cluster() { kubectl --context "$KUBE_CONTEXT" "$@"; }
in_namespace() { cluster --namespace "$NAMESPACE" "$@"; }

# The overlay with this commit's images, the environment's namespace and Ingress host, and
# each migration Job named after the commit (a Job's pod template cannot change once applied).
render() {
    local dir=build/k8s-deploy host  # kustomize takes relative paths only
    host=${CI_ENVIRONMENT_URL:?}
    host=${host#*://}
    host=${host%%/*}
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources: [../../deploy/k8s/overlays/$OVERLAY]"
        echo "namespace: $NAMESPACE"
        echo "images:"
        for service in "${SERVICES[@]}"; do
            echo "  - {name: flotilla/$service, newName: ${CI_REGISTRY_IMAGE:?}/$service, newTag: ${CI_COMMIT_SHA:?}}"
        done
        echo "patches:"
        echo "  - target: {kind: Ingress, name: gateway}"
        echo "    patch: '[{\"op\": \"replace\", \"path\": \"/spec/rules/0/host\", \"value\": \"$host\"}]'"
        for service in "${MIGRATED[@]}"; do
            echo "  - target: {kind: Job, name: $service-migrate}"
            echo "    patch: '[{\"op\": \"replace\", \"path\": \"/metadata/name\", \"value\": \"$(migration "$service")\"}]'"
        done
    } >"$(mkdir -p "$dir" && echo "$dir")/kustomization.yaml"
    kubectl kustomize "$dir"
    rm -r "$dir"
}

migration() { echo "$1-migrate-${CI_COMMIT_SHA:0:12}"; }

apply_secrets() {
    local service variable
    for service in "${SERVICES[@]}"; do
        variable=${service^^}_SECRETS_ENV
        if [[ -n ${!variable:-} ]]; then
            in_namespace create secret generic "$service-secrets" --from-env-file="${!variable}" \
                --dry-run=client --output=yaml | in_namespace apply --filename=-
        fi
    done
}

wait_for_rollouts() {
    local service
    for service in "${SERVICES[@]}"; do
        in_namespace rollout status "deployment/$service" --timeout="$ROLLOUT_TIMEOUT"
    done
}

up() {
    local manifests jobs=() service
    manifests=$(mktemp)
    render >"$manifests"
    cluster create namespace "$NAMESPACE" --dry-run=client --output=yaml |
        cluster apply --filename=-
    apply_secrets
    # Migrations first: the new pods serve only once their schema is in place.
    in_namespace apply --filename="$manifests" --selector=app.kubernetes.io/component=migration
    for service in "${MIGRATED[@]}"; do jobs+=("job/$(migration "$service")"); done
    if ((${#jobs[@]})); then
        in_namespace wait --for=condition=complete --timeout="$MIGRATION_TIMEOUT" "${jobs[@]}"
    fi
    in_namespace apply --filename="$manifests"
    wait_for_rollouts
    rm "$manifests"
}

down() {
    cluster delete namespace "$NAMESPACE" --ignore-not-found --wait=false
}

rollback() {
    local service
    for service in "${SERVICES[@]}"; do
        in_namespace rollout undo "deployment/$service"
    done
    wait_for_rollouts
}

case ${1:-} in
    up | down | rollback) "$1" ;;
    *) echo "usage: $0 up|down|rollback" >&2 && exit 2 ;;
esac
