"""The whole stack on one machine, without Docker: ``python -m flotilla.devstack``."""
