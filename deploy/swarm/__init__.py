"""The Flotilla stack on Docker Swarm: ``nox -s swarm -- up | e2e | down``."""
