#!/usr/bin/env bash
# Validate .gitlab-ci.yml offline, without GitLab:
#   1. GitLab's CI schema (check-jsonschema's vendored copy);
#   2. gitlab-ci-local parses it: extends, needs and rules resolve, and it lists the jobs;
#   3. ci/pipeline/check_pipeline.py checks it against the repo (nox sessions, packages,
#      Pythons, rules:changes, environments) and compares the jobs gitlab-ci-local
#      selects for simulated default-branch and merge-request pipelines with the
#      jobs that must run;
#   4. gitlab-ci-local runs one job for real in the shell ($VALIDATE_PIPELINE_JOB,
#      default lint:flotilla; set it empty to skip).
# Needs uv, nox, node/npx (gitlab-ci-local 4.73.0 from npm; later releases need
# Node 22) and rsync (installed with apt when missing and running as root).
# Works on a copy of the working tree, so the repo is left as it was.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GCL=(npx --yes gitlab-ci-local@4.73.0)
JOB=${VALIDATE_PIPELINE_JOB-lint:flotilla}
export UV_PYTHON_DOWNLOADS=never GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH
cd "$ROOT"

started=$SECONDS
step_started=$SECONDS
pass() {
    printf 'PASS  %s (%ds)\n' "$1" $((SECONDS - step_started))
    step_started=$SECONDS
}

if ! command -v rsync >/dev/null; then
    if ((EUID != 0)); then
        echo "gitlab-ci-local needs rsync; install it" >&2
        exit 1
    fi
    apt-get install -y -qq rsync >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq rsync >/dev/null; }
fi
command -v npx >/dev/null || { echo "gitlab-ci-local needs node and npx" >&2; exit 1; }
# nox finds the test Pythons through pyenv, if that is how they are installed.
if [[ -z ${PYENV_VERSION:-} ]] && command -v pyenv >/dev/null; then
    PYENV_VERSION=$(pyenv versions --bare | grep -E '^3\.1[1-3]\.[0-9]+$' | sort -V |
        awk -F. '{ latest[$1 "." $2] = $0 } END { for (v in latest) print latest[v] }' |
        sort -V | paste -sd: -)
    export PYENV_VERSION
fi

# 1. GitLab's schema.
uv run --frozen --quiet check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
pass "schema: .gitlab-ci.yml matches GitLab's CI schema"

# A throwaway git copy of the working tree whose main is also origin/main, the
# branch that rules:changes compares with.
sandbox=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-pipeline.XXXXXX")
trap 'rm -rf "$sandbox"' EXIT
git ls-files -z --cached --others --exclude-standard |
    rsync -a --from0 --files-from=- --ignore-missing-args ./ "$sandbox/"
(
    cd "$sandbox"
    git init --quiet --initial-branch=main
    git add --all
    git -c user.name=validate -c user.email=validate@example.com commit --quiet -m snapshot
    git remote add origin https://gitlab.example.com/flotilla/flotilla.git
    git update-ref refs/remotes/origin/main HEAD
    git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
)

# 2. gitlab-ci-local: the default-branch pipeline, its needs resolved.
(cd "$sandbox" && "${GCL[@]}" --list) 2>&1 | grep -v -e '^parsing and downloads' -e '^json schema'
if ! chain=$(cd "$sandbox" && "${GCL[@]}" --validate-dependency-chain 2>&1); then
    echo "$chain" >&2
    exit 1
fi
pass "gitlab-ci-local: the pipeline parses, extends/needs/rules resolve (jobs above)"

# 3. The pipeline against the repo, and simulated pipelines.
uv run --frozen --quiet python ci/pipeline/check_pipeline.py "$sandbox" "${GCL[*]}"
pass "structure: nox sessions, packages, Pythons, rules and environments match the repo"

# 4. One job for real, in the shell.
if [[ -n $JOB ]]; then
    log=$(mktemp "${TMPDIR:-/tmp}/flotilla-pipeline-job.XXXXXX")
    if ! (cd "$sandbox" && "${GCL[@]}" --force-shell-executor --no-color \
        --variable "UV_CACHE_DIR=$sandbox/.cache/uv" --variable "PIP_CACHE_DIR=$sandbox/.cache/pip" \
        "$JOB") >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "FAIL  job $JOB (full log: $log)" >&2
        exit 1
    fi
    rm -f "$log"
    pass "job $JOB ran in the shell executor and passed"
fi

printf 'pipeline validation passed in %ds\n' $((SECONDS - started))
