"""Event-log engine: any Spark event log in, a compact typed AppProfile out."""

from tools.eventlog.model import AppProfile, LogRef
from tools.eventlog.profile import load_profile
from tools.eventlog.storage import discover_applications

__all__ = ["AppProfile", "LogRef", "discover_applications", "load_profile"]
