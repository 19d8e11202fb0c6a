"""The shared library of Flotilla services: one way to do each cross-cutting thing."""
