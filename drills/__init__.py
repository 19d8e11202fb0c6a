"""Drills: runs against a live dev stack, started for the run by the dev stack's own code.

- ``python -m drills.bench`` (``nox -s bench``) measures speed and footprint;
- ``python -m drills.chaos`` (``nox -s chaos``) injects faults and checks the answers;
- ``python -m drills.soak`` (``nox -s soak``) runs mixed traffic for a while.

Each reports what it saw; none is part of a test suite.
"""
