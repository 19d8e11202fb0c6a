"""Guessing passwords and probing for accounts, through the gateway.

The lockout holds under concurrent guesses, and nothing but registration's
409 tells whether an email is registered: login answers an unknown email
exactly like a wrong password (timings are printed, not asserted), and a
user asking for another user's profile gets 403 whether that user exists
or not.
"""

import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests_e2e.conftest import PASSWORD, sign_up, unique_email
from tests_e2e.stack import Stack

WRONG = "wrong password 123"
#: The contract's lockout: 5 failures for one email within the window.
MAX_FAILURES = 5
#: Headers that differ between any two responses.
PER_RESPONSE = {"date", "x-request-id", "content-length"}


def login(api: httpx.Client, email: str, password: str) -> httpx.Response:
    return api.post("/api/v1/auth/token", data={"username": email, "password": password})


def concurrently(stack: Stack, attempts: list[Callable[[httpx.Client], int]]) -> list[int]:
    """Run each attempt on its own thread and connection at once; their statuses."""

    def run(attempt: Callable[[httpx.Client], int]) -> int:
        with httpx.Client(base_url=stack.gateway_url, timeout=60) as client:
            return attempt(client)

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, attempts))


def test_the_lockout_holds_under_concurrent_guesses(api: httpx.Client, stack: Stack) -> None:
    """12 guesses at once for a registered and an unknown email: 5 get through, for both."""
    known, _ = sign_up(api)
    unknown = unique_email("nobody")
    guesses = 12

    def guess(email: str) -> Callable[[httpx.Client], int]:
        return lambda client: login(client, email, WRONG).status_code

    statuses = concurrently(stack, [guess(known)] * guesses + [guess(unknown)] * guesses)
    right_password = login(api, known, PASSWORD)

    expected = Counter({401: MAX_FAILURES, 429: guesses - MAX_FAILURES})
    assert Counter(statuses[:guesses]) == expected
    assert Counter(statuses[guesses:]) == expected
    assert right_password.status_code == 429
    assert right_password.json() == {"detail": "Too many failed login attempts"}
    assert int(right_password.headers["Retry-After"]) > 0


def test_login_answers_an_unknown_email_like_a_wrong_password(api: httpx.Client) -> None:
    known, _ = sign_up(api)
    samples: dict[str, list[float]] = {"wrong password": [], "unknown email": []}
    responses: dict[str, list[httpx.Response]] = {"wrong password": [], "unknown email": []}
    for _ in range(MAX_FAILURES - 1):  # stay below the lockout
        for case, email in (("wrong password", known), ("unknown email", unique_email("ghost"))):
            started = time.perf_counter()
            responses[case].append(login(api, email, WRONG))
            samples[case].append(time.perf_counter() - started)

    for case in responses:
        median_ms = statistics.median(samples[case]) * 1000
        print(f"login, {case}: median {median_ms:.1f} ms over {len(samples[case])}")
    first = responses["wrong password"][0]
    for response in responses["wrong password"] + responses["unknown email"]:
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect email or password"}
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert set(response.headers) - PER_RESPONSE == set(first.headers) - PER_RESPONSE


def test_another_users_profile_is_403_whether_or_not_it_exists(api: httpx.Client) -> None:
    _, auth = sign_up(api)
    _, other_auth = sign_up(api)
    other_id = api.get("/api/v1/users/me", headers=other_auth).json()["id"]

    existing = api.get(f"/api/v1/users/{other_id}", headers=auth)
    missing = api.get(f"/api/v1/users/{2**62}", headers=auth)

    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json() == {"detail": "Not enough permissions"}


@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_registration_alone_says_an_email_is_taken(
    api: httpx.Client, spelling: Callable[[str], str]
) -> None:
    email, _ = sign_up(api)

    again = api.post("/api/v1/auth/register", json={"email": spelling(email), "password": PASSWORD})

    assert again.status_code == 409
    assert again.json() == {"detail": "Email already registered"}
