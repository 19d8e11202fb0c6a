"""Flotilla users service."""
