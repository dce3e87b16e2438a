"""Spark Copilot: CLI, settings, rendering, history store and the public Python API."""
