"""End-to-end tests: only HTTP to the gateway, against a running stack."""
