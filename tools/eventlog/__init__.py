"""Event-log engine: any Spark event log in, a compact typed AppProfile out."""

from tools.eventlog.model import AppProfile

__all__ = ["AppProfile"]
