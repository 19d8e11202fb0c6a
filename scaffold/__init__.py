"""Adding a service (``nox -s new-service``) and keeping services on the template."""
