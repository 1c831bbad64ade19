"""The version of the service, in one place (pyproject.toml reads it from here)."""

VERSION = "0.1.0"
