"""Every Flotilla workflow; CI and the GitLab pipeline call these same sessions.

nox -s tests-3.11                      all packages' tests on Python 3.11
nox -s "tests-3.11(package='items')"   one package
nox -s lint -- services/items          lint one package (default: the repo)
nox -s typecheck -- libs/flotilla      typecheck one package

A bare ``nox`` runs lint, typecheck and the tests on the first Python, so a
machine with only that one passes. A session named with a Python the machine
lacks fails (never "skipped"); with pyenv, ``export PYENV_VERSION=...`` exposes
the installed ones.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]
nox.options.sessions = ["lint", "typecheck", f"tests-{PYTHONS[0]}"]
nox.options.error_on_missing_interpreters = True
#: How long nox waits for the dev stack to shut down after its SIGTERM (nox's
#: default, 0.2 s, killed the launcher mid-shutdown and orphaned Postgres).
DEV_SHUTDOWN_SECONDS = 30.0
#: How the README (and CI) make pyenv's interpreters visible to nox.
PYENV_TIP = "export PYENV_VERSION=3.11.7:3.12.1:3.13.0"
#: Every service folder (services/<name>/); the import name is the name with "_" for "-".
SERVICES = sorted(path.parent.name for path in ROOT.glob("services/*/pyproject.toml"))
#: Package name -> directory: the shared library and every service.
PACKAGES = {
    "flotilla": "libs/flotilla",
    **{service: f"services/{service}" for service in SERVICES},
}
REPORTS = ROOT / "build" / "reports"
#: check-jsonschema's vendored schemas (they work offline) -> the file each one checks.
SCHEMAS = {
    "vendor.compose-spec": "docker-compose.yml",
    "vendor.gitlab-ci": ".gitlab-ci.yml",
}

os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


def python_is_available(version: str) -> bool:
    """Whether uv (nox's venv backend) finds this interpreter without downloading one."""
    found = subprocess.run(  # noqa: S603 (fixed argv)
        ["uv", "python", "find", "--no-python-downloads", version],  # noqa: S607 (uv from PATH)
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


def warn_about_missing_pythons() -> None:
    missing = [version for version in PYTHONS if not python_is_available(version)]
    if missing:
        print(
            f"noxfile: Python {', '.join(missing)} not found: a session that needs it fails. "
            f"Install it, or with pyenv make the installed ones visible: {PYENV_TIP} "
            "(`pyenv versions` lists yours)",
            file=sys.stderr,
        )


warn_about_missing_pythons()


def install(session: nox.Session) -> None:
    """Install the whole workspace into the session's venv, exactly as uv.lock pins it."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        "--all-packages",
        "--python",
        str(session.python or session.virtualenv.location),
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


def targets(session: nox.Session) -> list[str]:
    return session.posargs or ["."]


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff lint + format check; for the whole repo also Dockerfiles, scripts, compose, CI."""
    install(session)
    session.run("ruff", "check", *targets(session))
    session.run("ruff", "format", "--check", *targets(session))
    if session.posargs:
        return
    dockerfiles = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("**/Dockerfile"))
    scripts = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ci").glob("**/*.sh"))
    if dockerfiles:
        session.run("hadolint", *dockerfiles)
    if scripts:
        session.run("shellcheck", ".ci/run", *scripts)
    for schema, document in SCHEMAS.items():
        if (ROOT / document).exists():
            session.run("check-jsonschema", "--builtin-schema", schema, document)


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict."""
    install(session)
    # Every package's src/ (mypy has no glob for this), so a new service needs no entry.
    source_roots = os.pathsep.join(f"{directory}/src" for directory in PACKAGES.values())
    session.run("mypy", *targets(session), env={"MYPYPATH": source_roots})


@nox.session(python=PYTHONS)
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """Unit and integration tests of one package against a real Postgres."""
    install(session)
    REPORTS.mkdir(parents=True, exist_ok=True)
    tag = f"{package}-py{session.python}"
    session.chdir(ROOT / PACKAGES[package])
    session.run(
        "pytest",
        "-n",
        os.environ.get("PYTEST_WORKERS", "2"),
        f"--cov={package.replace('-', '_')}",
        f"--cov-config={ROOT / 'pyproject.toml'}",
        "--cov-report=term",
        f"--cov-report=xml:{REPORTS / f'coverage-{tag}.xml'}",
        f"--junitxml={REPORTS / f'junit-{tag}.xml'}",
        *session.posargs,
    )


@nox.session(python=PYTHONS[0])
def dev(session: nox.Session) -> None:
    """The whole stack on this machine: every service and the gateway on a real Postgres."""
    install(session)
    # SIGINT and SIGTERM to nox stop the stack as Ctrl-C does, even where the parent
    # ignored SIGINT (a background job). Interrupted, nox waits briefly for the
    # launcher (Ctrl-C in a terminal reached it too), then sends it SIGTERM and
    # waits for its shutdown (services, then Postgres) before it would kill it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    session.run(
        "python",
        "-m",
        "flotilla.devstack",
        *session.posargs,
        terminate_timeout=DEV_SHUTDOWN_SECONDS,
    )


@nox.session(name="new-service", python=PYTHONS[0])
def new_service(session: nox.Session) -> None:
    """Add a service: ``nox -s new-service -- orders`` renders services/orders/ and registers it."""
    install(session)
    session.run("python", "-m", "scaffold.new_service", *session.posargs)


@nox.session(name="template-check", python=PYTHONS[0])
def template_check(session: nox.Session) -> None:
    """Tests of new-service, then: does every templated service keep the template's files?"""
    install(session)
    session.run("pytest", "scaffold/tests", "-p", "no:cacheprovider")
    session.run("python", "-m", "scaffold.template_check")


@nox.session(python=PYTHONS[0])
def e2e(session: nox.Session) -> None:
    """End-to-end suite against GATEWAY_URL, or against a dev stack it starts and stops."""
    install(session)
    REPORTS.mkdir(parents=True, exist_ok=True)
    session.run("pytest", "tests_e2e", f"--junitxml={REPORTS / 'junit-e2e.xml'}", *session.posargs)


def image_tag() -> str:
    """``FLOTILLA_IMAGE_TAG``, else the commit's short SHA."""
    tag = os.environ.get("FLOTILLA_IMAGE_TAG")
    if tag:
        return tag
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607 (git from PATH)
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return sha.stdout.strip()


@nox.session(python=False)
def build(session: nox.Session) -> None:
    """Build service images ``flotilla/<service>:<tag>`` (and ``:latest``).

    ``nox -s build -- items`` builds one. ``PYTHON_IMAGE`` overrides
    the base image (default: the official python image); ``DOCKER_BUILD_NETWORK``
    sets the build network (``host`` on our air-gapped CI machines).
    """
    tag = image_tag()
    base = os.environ.get("PYTHON_IMAGE")
    network = os.environ.get("DOCKER_BUILD_NETWORK")
    for service in session.posargs or SERVICES:
        if service not in SERVICES:
            session.error(f"unknown service {service!r}; choose from {', '.join(SERVICES)}")
        command = ["docker", "build", "--build-arg", f"SERVICE={service}"]
        command += ["-t", f"flotilla/{service}:{tag}", "-t", f"flotilla/{service}:latest"]
        if base:
            command += ["--build-arg", f"PYTHON_IMAGE={base}"]
        if network:
            command += ["--network", network]
        session.run(*command, ".", external=True)


@nox.session(python=PYTHONS[0])
def manifests(session: nox.Session) -> None:
    """Render every Kubernetes overlay, validate it offline against Kubernetes 1.33's schemas,
    check the policy rules over it (deploy/k8s/tests), and test the deploy job's script with a
    fake kubectl (ci/tests)."""
    install(session)
    rendered_dir = ROOT / "build" / "manifests"
    rendered_dir.mkdir(parents=True, exist_ok=True)
    for overlay in sorted((ROOT / "deploy" / "k8s" / "overlays").iterdir()):
        target = rendered_dir / f"{overlay.name}.yaml"
        with target.open("w") as output:
            session.run("kubectl", "kustomize", str(overlay), stdout=output, external=True)
        session.run("kubernetes-validate", "--strict", "-k", "1.33.0", "--quiet", str(target))
    session.run("pytest", "deploy/k8s/tests", "ci/tests", *session.posargs)


@nox.session(python=PYTHONS[0])
def swarm(session: nox.Session) -> None:
    """The stack on a single-node Docker Swarm: ``nox -s swarm -- up``, ``-- e2e``, ``-- down``.

    ``up`` builds the images, deploys the stack ``flotilla`` (2 users and 2 items replicas)
    and waits for every replica; ``e2e`` runs tests_e2e and the rolling-update load test
    against it; ``down`` removes it and leaves a swarm ``up`` created (deploy/swarm/).
    """
    install(session)
    if len(session.posargs) != 1:
        session.error("usage: nox -s swarm -- up|e2e|down")
    session.run(
        "python", "-m", "deploy.swarm", *session.posargs, env={"FLOTILLA_IMAGE_TAG": image_tag()}
    )


@nox.session(python=PYTHONS[0])
def fuzz(session: nox.Session) -> None:
    """Schemathesis on users', items' and the gateway's OpenAPI documents, signed in.

    On a fresh dev stack, or on ``GATEWAY_URL`` (``USERS_URL``/``ITEMS_URL`` add
    the services behind it). ``nox -s fuzz -- --max-examples 100`` tries harder.
    """
    install(session)
    session.run("python", "-m", "tests_e2e.fuzz", *session.posargs)


@nox.session(python=PYTHONS[0])
def chaos(session: nox.Session) -> None:
    """Fault injection on a fresh dev stack: database down under writes, items hung, killed."""
    install(session)
    session.run("python", "-m", "drills.chaos", *session.posargs)


@nox.session(python=PYTHONS[0])
def soak(session: nox.Session) -> None:
    """Mixed traffic through a fresh dev stack's gateway: ``nox -s soak -- --duration 60``."""
    install(session)
    session.run("python", "-m", "drills.soak", *session.posargs)


@nox.session(python=PYTHONS[0])
def audit(session: nox.Session) -> None:
    """pip-audit on every package ``uv.lock`` pins, against PyPI's vulnerability data.

    Needs PyPI's JSON API (or OSV: ``nox -s audit -- --vulnerability-service osv``).
    ``--strict`` makes a package that could not be audited a failure, so a
    machine without that API fails the session instead of passing it.
    """
    install(session)
    REPORTS.mkdir(parents=True, exist_ok=True)
    requirements = REPORTS / "audit-requirements.txt"
    session.run(
        "uv",
        "export",
        "--frozen",
        "--all-packages",
        "--no-emit-workspace",
        "--no-hashes",
        "--quiet",
        f"--output-file={requirements}",
        external=True,
    )
    session.run(
        "pip-audit",
        f"--requirement={requirements}",
        "--disable-pip",
        "--no-deps",
        "--strict",
        "--progress-spinner=off",
        *session.posargs,
    )


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Benchmarks side by side in one run; ``-- --help`` lists options.

    Gateway hop, items vs the textbook baseline, login vs /healthz latency,
    test isolation and footprint.
    """
    install(session)
    session.run("python", "-m", "drills.bench", *session.posargs)


@nox.session(name="docs-browser", python=PYTHONS[0])
def docs_browser(session: nox.Session) -> None:
    """/docs and /redoc in headless Chromium, offline: operations rendered, password login.

    Needs Debian's ``chromium``. Runs in a network namespace with only loopback
    (root's ``unshare``), so a page that still needed a CDN would fail.
    """
    install(session)
    session.run(
        "unshare",
        "--net",
        "--",
        "sh",
        "-c",
        'ip link set lo up && exec python -m tests_e2e.docs_browser "$@"',
        "docs-browser",
        *session.posargs,
        external=True,
    )
