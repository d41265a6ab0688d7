"""The version of geo_dx, in one place (the package and the run summary read it)."""

__version__ = "0.1.0"
