"""Flotilla items service."""
