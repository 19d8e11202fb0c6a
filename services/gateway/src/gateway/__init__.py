"""Flotilla gateway service: the single public entry point."""

__version__ = "0.1.0"
