"""Flotilla users service: registration, login, JWT issuing, JWKS."""

__version__ = "0.1.0"
