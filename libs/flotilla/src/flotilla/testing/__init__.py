"""Test support: real-Postgres providers, the pytest plugin, tokens and fault injection."""
