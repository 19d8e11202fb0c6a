"""Every Flotilla workflow; CI and the GitLab pipeline call these same sessions.

nox -s tests-3.11                      all packages' tests on Python 3.11
nox -s "tests-3.11(package='items')"   one package
nox -s lint -- services/items          lint one package (default: the repo)
nox -s typecheck -- libs/flotilla      typecheck one package
"""

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).parent
PYTHONS = ["3.11", "3.12", "3.13"]
#: package name -> directory; the import name equals the package name.
PACKAGES = {
    "flotilla": "libs/flotilla",
    "users": "services/users",
    "items": "services/items",
    "gateway": "services/gateway",
}
REPORTS = ROOT / "build" / "reports"

os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")


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
    """ruff (lint + format check), plus schema checks of the compose and pipeline files."""
    install(session)
    session.run("ruff", "check", *targets(session))
    session.run("ruff", "format", "--check", *targets(session))


@nox.session(python=PYTHONS[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict."""
    install(session)
    session.run("mypy", *targets(session))


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
        f"--cov={package}",
        "--cov-report=term",
        f"--cov-report=xml:{REPORTS / f'coverage-{tag}.xml'}",
        f"--junitxml={REPORTS / f'junit-{tag}.xml'}",
        *session.posargs,
    )


@nox.session(python=PYTHONS[0])
def dev(session: nox.Session) -> None:
    """The whole stack on this machine: users, items and gateway on a real Postgres."""
    install(session)
    session.run("python", "-m", "flotilla.devstack", *session.posargs)


@nox.session(python=PYTHONS[0])
def e2e(session: nox.Session) -> None:
    """End-to-end suite against GATEWAY_URL, or against a dev stack it starts and stops."""
    install(session)
    REPORTS.mkdir(parents=True, exist_ok=True)
    session.run("pytest", "tests_e2e", f"--junitxml={REPORTS / 'junit-e2e.xml'}", *session.posargs)
