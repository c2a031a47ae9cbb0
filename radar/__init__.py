"""radar: CI health statistics from Gerrit review traffic."""

__version__ = "0.1.0"
