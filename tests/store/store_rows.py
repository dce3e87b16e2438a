"""Small helpers for the store tests."""

from __future__ import annotations


def count(store, table: str) -> int:
    with store.connect() as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
