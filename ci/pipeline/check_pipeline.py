"""Check .gitlab-ci.yml against the repository; run by ci/validate-pipeline.sh.

It reads the pipeline as gitlab-ci-local expands it (includes and ``extends``
resolved) and checks it against the repo: every ``nox -s`` session a job runs
exists, every package has its lint and test jobs on every Python the noxfile
tests, every service its build, reuse and scan jobs. Then it asks
gitlab-ci-local which jobs run in simulated pipelines (default branch, a merge
request touching each service in turn, the library, the lock, the e2e suite,
docs only) and compares them with the jobs that must run: the rules themselves
are left to gitlab-ci-local, not re-implemented here.

    python ci/pipeline/check_pipeline.py SANDBOX "npx --yes gitlab-ci-local@4.73.0"

SANDBOX is a throwaway git copy of the repo whose ``main`` is also
``origin/main``; this script commits to branches there.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

STAGES = ["lint", "test", "build", "e2e", "security", "deploy"]
DEFAULT_BRANCH_RULE = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
NOX_CALL = re.compile(r"""\bnox\b[^;&|]*?\s-s\s+(?:"([^"]+)"|'([^']+)'|(\S+))""")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
#: What pytest-cov prints as its last line; the job's coverage regex must find 93.5%.
PYTEST_COV_TOTAL = "TOTAL                             1480     61    342     25  93.5%"
#: A merge request in gitlab-ci-local: no branch variable, as on GitLab.
MR_ARGS = [
    "--variable=CI_PIPELINE_SOURCE=merge_request_event",
    "--variable=CI_MERGE_REQUEST_IID=7",
    "--unset-variable=CI_COMMIT_BRANCH",
]

failures: list[str] = []


def check(condition: bool, message: str) -> None:
    if not condition:
        failures.append(message)


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"{shlex.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# ----------------------------------------------------------------- the repo


def nox_sessions(repo: Path) -> list[str]:
    listing = run(["nox", "--list", "--no-color"], repo)
    return [m.group(1) for m in re.finditer(r"^[*-] (.+?)(?: -> .*)?$", listing, re.M)]


def package_dirs(repo: Path, packages: set[str]) -> dict[str, str]:
    dirs = {}
    for package in packages:
        found = [d for d in (f"libs/{package}", f"services/{package}") if (repo / d).is_dir()]
        check(len(found) == 1, f"package {package}: expected one directory, found {found}")
        dirs[package] = found[0] if found else f"?/{package}"
    return dirs


# ------------------------------------------------------------- the pipeline


def expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(5):
        text = VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)
    return text


def matrix_variables(job: dict[str, Any]) -> Iterator[dict[str, str]]:
    parallel = job.get("parallel")
    matrix = parallel.get("matrix") if isinstance(parallel, dict) else None
    if not matrix:
        yield {}
        return
    for entry in matrix:
        keys = list(entry)
        values = [v if isinstance(v, list) else [v] for v in entry.values()]
        for combination in product(*values):
            yield {k: str(v) for k, v in zip(keys, combination, strict=True)}


def job_commands(job: dict[str, Any]) -> list[str]:
    return [str(line) for key in ("before_script", "script") for line in job.get(key) or []]


def check_static(
    config: dict[str, Any], sessions: list[str], dirs: dict[str, str], pythons: list[str]
) -> None:
    jobs = {
        name: job
        for name, job in config.items()
        if isinstance(job, dict) and "stage" in job and not name.startswith(".")
    }
    global_variables = {k: str(v) for k, v in (config.get("variables") or {}).items()}
    stages = [s for s in config.get("stages", []) if s not in (".pre", ".post")]
    check(stages == STAGES, f"stages are {stages}, expected {STAGES}")
    for stage in STAGES:
        check(any(j["stage"] == stage for j in jobs.values()), f"stage {stage} has no job")

    # Every nox session a job runs exists, after expanding its (matrix) variables.
    used: set[str] = set()
    for name, job in jobs.items():
        for extra in matrix_variables(job):
            variables = {**global_variables, **(job.get("variables") or {}), **extra}
            for command in job_commands(job):
                for match in NOX_CALL.finditer(expand(command, variables)):
                    session = next(g for g in match.groups() if g)
                    used.add(session)
                    check(session in sessions, f"{name}: `nox -s {session}` is not a nox session")
    for needed in ("lint", "typecheck", "build", "e2e"):
        check(needed in used, f"no job runs `nox -s {needed}`")

    for package, directory in dirs.items():
        service = directory.startswith("services/")
        lint, test = jobs.get(f"lint:{package}"), jobs.get(f"test:{package}")
        check(lint is not None, f"no lint:{package} job")
        check(test is not None, f"no test:{package} job")
        if lint:
            commands = expand(" ".join(job_commands(lint)), lint.get("variables") or {})
            check(
                f"nox -s lint -- {directory}" in commands,
                f"lint:{package} does not lint {directory}",
            )
        if test:
            check_test_job(package, test, pythons)
        if service:
            build, scan = jobs.get(f"build:{package}"), jobs.get(f"container-scan:{package}")
            check(build is not None, f"no build:{package} job")
            check(scan is not None, f"no container-scan:{package} job")
            check(f"reuse:{package}" in jobs, f"no reuse:{package} job")
            if build:
                commands = expand(" ".join(job_commands(build)), build.get("variables") or {})
                check(
                    f"nox -s build -- {package}" in commands, f"build:{package} skips nox -s build"
                )
                check(f"images.sh push {package}" in commands, f"build:{package} pushes nothing")

    check_stack_and_security(jobs)
    check_deploy(jobs)


def check_test_job(package: str, job: dict[str, Any], pythons: list[str]) -> None:
    versions = sorted(m.get("PYTHON_VERSION", "") for m in matrix_variables(job))
    check(versions == sorted(pythons), f"test:{package} runs {versions}, noxfile tests {pythons}")
    reports = (job.get("artifacts") or {}).get("reports") or {}
    check("junit" in reports, f"test:{package}: no JUnit report")
    coverage = reports.get("coverage_report") or {}
    check(coverage.get("coverage_format") == "cobertura", f"test:{package}: no Cobertura report")
    pattern = str(job.get("coverage", "")).strip("/")
    found = re.search(pattern, PYTEST_COV_TOTAL) if pattern else None
    check(bool(found and "93.5%" in found.group(0)), f"test:{package}: coverage regex misses TOTAL")
    keys = [c.get("key", {}) for c in job.get("cache") or []]
    check(any(k.get("files") == ["uv.lock"] for k in keys), f"test:{package}: cache not on uv.lock")
    services = [s.get("name", "") for s in job.get("services") or []]
    check(any(s.startswith("docker:") and s.endswith("dind") for s in services), "no dind service")
    variables = job.get("variables") or {}
    check(variables.get("DOCKER_HOST") == "tcp://docker:2376", f"test:{package}: dind without TLS")
    check(bool(variables.get("DOCKER_TLS_CERTDIR")), f"test:{package}: no DOCKER_TLS_CERTDIR")


def check_stack_and_security(jobs: dict[str, dict[str, Any]]) -> None:
    e2e = jobs.get("e2e", {})
    check("nox -s e2e" in " ".join(job_commands(e2e)), "e2e does not run nox -s e2e")
    check(
        any("stack.sh down" in str(line) for line in e2e.get("after_script") or []),
        "e2e does not take the stack down in after_script",
    )
    security = " ".join(
        " ".join(job_commands(job)) for job in jobs.values() if job["stage"] == "security"
    )
    for tool in ("pip-audit", "bandit", "trivy image", "dast.sh"):
        check(tool in security, f"security stage: nothing runs {tool}")


def check_compose(repo: Path, job: dict[str, Any]) -> None:
    """The e2e stack as `docker compose config` sees it, if compose is installed."""
    files = str((job.get("variables") or {}).get("COMPOSE_FILE", "")).split(":")
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)  # noqa: S607
    if probe.returncode != 0:
        print("  compose: docker compose not installed, override not checked")
        return
    env = {**os.environ, "FLOTILLA_IMAGE_TAG": "0123abcd"}
    env.pop("COMPOSE_FILE", None)
    command = ["docker", "compose", *(f"--file={f}" for f in files), "config", "--format=json"]
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    check(result.returncode == 0, f"compose config with {files} failed: {result.stderr.strip()}")
    if result.returncode != 0:
        return
    services = json.loads(result.stdout)["services"]
    ports = services.get("gateway", {}).get("ports", [])
    published = [(p.get("host_ip", ""), str(p.get("published"))) for p in ports]
    check(published == [("", "8000")], f"compose: the gateway is published as {published}")
    images = {s.get("image", "") for s in services.values() if "flotilla/" in s.get("image", "")}
    check(
        bool(images) and all(i.endswith(":0123abcd") for i in images),
        f"compose: images not tagged with FLOTILLA_IMAGE_TAG: {sorted(images)}",
    )
    port = published[0][1] if published else "?"
    print(
        f"  compose: gateway published on the dind engine at {port}; images by SHA: {len(images)}"
    )


def check_deploy(jobs: dict[str, dict[str, Any]]) -> None:
    review = jobs.get("review", {})
    environment = review.get("environment") or {}
    stop_name = environment.get("on_stop", "")
    stop = jobs.get(stop_name, {})
    check(bool(stop), f"review: on_stop job {stop_name!r} does not exist")
    check(bool(environment.get("auto_stop_in")), "review: no auto_stop_in")
    stop_environment = stop.get("environment") or {}
    check(stop_environment.get("action") == "stop", f"{stop_name}: environment action is not stop")
    check(
        stop_environment.get("name") == environment.get("name"), f"{stop_name}: other environment"
    )
    strip = [{k: v for k, v in r.items() if k != "when"} for r in stop.get("rules") or []]
    check(strip == review.get("rules"), f"{stop_name}: rules differ from review's")
    production = jobs.get("production", {})
    check(
        [r.get("when") for r in production.get("rules") or []] == ["manual"],
        "production is not a manual job",
    )
    rollback = jobs.get("production:rollback", {})
    check((rollback.get("environment") or {}).get("name") == "production", "no production rollback")
    check(
        all(r.get("when") == "manual" for r in rollback.get("rules") or [{}]),
        "production:rollback is not manual",
    )
    for name, job in jobs.items():
        if job["stage"] == "deploy":
            check(
                "ci/pipeline/k8s-deploy.sh" in " ".join(job_commands(job)),
                f"{name}: does not run ci/pipeline/k8s-deploy.sh",
            )


# -------------------------------------------------------------- simulations


def workflow_allows(config: dict[str, Any], variables: dict[str, str]) -> bool:
    """Evaluate workflow:rules (gitlab-ci-local does not) for the simple forms used here."""
    for rule in (config.get("workflow") or {}).get("rules") or []:
        if rule_if(rule.get("if", ""), variables):
            return bool(rule.get("when", "always") != "never")
    return False


def rule_if(expression: str, variables: dict[str, str]) -> bool:
    def operand(token: str) -> str:
        token = token.strip()
        if token.startswith("$"):
            return variables.get(token[1:], "")
        return token.strip("\"'")

    for clause in expression.split("&&"):
        match = re.fullmatch(r"\s*(\S+)\s*(==|!=)\s*(\S+)\s*", clause)
        if match:
            left, op, right = operand(match[1]), match[2], operand(match[3])
            if (left == right) != (op == "=="):
                return False
        elif not operand(clause):
            return False
    return True


def listed_jobs(sandbox: Path, gcl: list[str], extra: list[str]) -> dict[str, str]:
    """The jobs gitlab-ci-local puts in this pipeline, once it has checked their needs."""
    run([*gcl, "--validate-dependency-chain", *extra], sandbox)
    output = run([*gcl, "--list-json", *extra], sandbox)
    return {job["name"]: job["when"] for job in json.loads(output) if job["when"] != "never"}


def on_branch(sandbox: Path, branch: str, touch: str) -> None:
    git = ["git", "-c", "user.name=validate", "-c", "user.email=validate@example.com"]
    run([*git, "checkout", "--quiet", "-B", branch, "main"], sandbox)
    file = sandbox / touch
    file.parent.mkdir(parents=True, exist_ok=True)
    with file.open("a") as handle:
        handle.write("\n# changed by check_pipeline.py\n")
    run([*git, "add", touch], sandbox)
    run([*git, "commit", "--quiet", "-m", f"touch {touch}"], sandbox)


def simulate(sandbox: Path, gcl: list[str], config: dict[str, Any], dirs: dict[str, str]) -> None:
    pythons = sorted({m["PYTHON_VERSION"] for m in matrix_variables(config["test:flotilla"])})

    def package_jobs(package: str) -> set[str]:
        jobs = {f"lint:{package}"} | {f"test:{package}: [{v}]" for v in pythons}
        if dirs[package].startswith("services/"):
            jobs |= {f"build:{package}", f"container-scan:{package}"}
        return jobs

    every_package = set().union(*(package_jobs(p) for p in dirs))
    services = sorted(p for p, d in dirs.items() if d.startswith("services/"))
    always, stack, review = {"lint", "sast"}, {"e2e", "dast"}, {"review", "review:stop"}

    def reused(*rebuilt: str) -> set[str]:
        return {f"reuse:{s}" for s in services if s not in rebuilt}

    branch = {"CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main"}
    pipelines = {
        "push to main": {**branch, "CI_COMMIT_BRANCH": "main"},
        "merge request": {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main"},
        "push to a feature branch": {**branch, "CI_COMMIT_BRANCH": "feature"},
        "tag": {**branch, "CI_COMMIT_TAG": "v1.0.0"},
    }
    expected_workflow = {"push to main": True, "merge request": True}
    for name, variables in pipelines.items():
        allowed = workflow_allows(config, variables)
        check(allowed == expected_workflow.get(name, False), f"workflow: {name} -> {allowed}")
        print(f"  workflow: {name:<25} {'pipeline' if allowed else 'no pipeline'}")

    run(["git", "checkout", "--quiet", "main"], sandbox)
    default = always | every_package | stack | {"dependency-audit", "staging"}
    promote = {"production": "manual", "production:rollback": "manual"}
    scenarios: list[tuple[str, str | None, set[str], dict[str, str]]] = [
        ("default branch", None, default, promote),
        *((f"MR changing {s}", f"{dirs[s]}/src/{s.replace('-', '_')}/__init__.py",
           always | package_jobs(s) | stack | review | reused(s), {"review:stop": "manual"})
          for s in services),
        ("MR changing libs/", "libs/flotilla/src/flotilla/__init__.py",
         always | every_package | stack | review, {}),
        ("MR changing uv.lock", "uv.lock",
         always | every_package | stack | review | {"dependency-audit"}, {}),
        ("MR changing tests_e2e/", "tests_e2e/conftest.py",
         always | stack | review | reused(), {}),
        ("MR changing docs only", "docs/notes.md", always, {}),
    ]  # fmt: skip
    for title, touch, expected, manual in scenarios:
        expected = expected | set(manual)
        if touch is None:
            got = listed_jobs(sandbox, gcl, [])
        else:
            on_branch(sandbox, "mr-" + re.sub(r"\W+", "-", title.lower()), touch)
            got = listed_jobs(sandbox, gcl, MR_ARGS)
            run(["git", "checkout", "--quiet", "main"], sandbox)
        missing, extra = sorted(expected - set(got)), sorted(set(got) - expected)
        check(not missing, f"{title}: jobs missing: {missing}")
        check(not extra, f"{title}: unexpected jobs: {extra}")
        for job, when in manual.items():
            check(got.get(job) == when, f"{title}: {job} is {got.get(job)}, expected {when}")
        print(f"  {title:<27} {len(got):>2} jobs{'' if missing or extra else ', as expected'}")


def main() -> None:
    sandbox, gcl = Path(sys.argv[1]).resolve(), shlex.split(sys.argv[2])
    sessions = nox_sessions(sandbox)
    tests = [re.fullmatch(r"tests-([\d.]+)\(package='([\w-]+)'\)", s) for s in sessions]
    pythons = sorted({m[1] for m in tests if m})
    dirs = package_dirs(sandbox, {m[2] for m in tests if m})
    check(bool(dirs), "nox lists no tests-<python>(package=...) sessions")
    config = YAML(typ="safe").load(run([*gcl, "--preview"], sandbox))
    print(f"  nox: {len(sessions)} sessions; packages {sorted(dirs)}; Pythons {pythons}")
    check_static(config, sessions, dirs, pythons)
    check_compose(sandbox, config.get("e2e", {}))
    simulate(sandbox, gcl, config, dirs)
    if failures:
        print("\n".join(f"FAIL {failure}" for failure in failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
