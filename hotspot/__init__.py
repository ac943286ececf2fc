"""Hotspot Map application core: configuration, store, intake, services and the CLI."""

__version__ = "0.1.0"
