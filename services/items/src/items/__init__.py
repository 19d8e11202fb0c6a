"""Flotilla items service: items CRUD with ownership."""

__version__ = "0.1.0"
