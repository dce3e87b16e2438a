"""Opening the DuckDB history store: one process writes at a time, others wait their turn.

DuckDB lets a single process hold a database file open for writing. Every user of
the store (a batch parent, `copilot history`, a second batch) opens it briefly, does
its work in a transaction and closes it again; a process that finds the file
locked retries with backoff until `lock_timeout_s`, so concurrent users take
turns instead of failing or corrupting it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from copilot.store.schema import migrate
from tools.errors import ConfigurationError


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


class Store:
    """The history store at `path` (created and migrated on first use)."""

    def __init__(self, path: Path | str, lock_timeout_s: float = 120.0) -> None:
        self.path = Path(path).expanduser()
        self.lock_timeout_s = lock_timeout_s
        self._migrated = False  # checked once per Store object: later opens skip the schema query

    @classmethod
    def from_settings(cls, settings=None) -> Store:
        from copilot.settings import get_settings

        settings = settings or get_settings()
        return cls(settings.store_path)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A migrated connection, held only for the duration of the block."""
        con = self._open()
        try:
            if not self._migrated:
                migrate(con, where=str(self.path))
                self._migrated = True
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: everything in the block commits together or not at all."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _open(self) -> duckdb.DuckDBPyConnection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot create the history store directory {self.path.parent}: {exc}") from exc
        deadline = time.monotonic() + self.lock_timeout_s
        delay_s = 0.005
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if not _is_lock_conflict(exc):
                    raise ConfigurationError(f"cannot open the history store {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise ConfigurationError(
                        f"history store {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_s:.0f}s; wait for it to finish or use another COPILOT_STORE_PATH"
                    ) from exc
            except duckdb.Error as exc:
                raise ConfigurationError(f"cannot open the history store {self.path}: {exc}") from exc
            time.sleep(delay_s * (0.5 + random.random()))
            delay_s = min(delay_s * 2, 0.25)
