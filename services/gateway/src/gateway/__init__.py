"""Flotilla gateway service."""
