"""The fleet view of a set of stored logs: biggest savings first, the commonest problems, the slowest apps."""

from __future__ import annotations

from collections.abc import Collection

import pyarrow as pa
from pydantic import BaseModel, Field

from copilot.store.db import Store

MS_PER_HOUR = 3_600_000


class SavingsOpportunity(BaseModel):
    app_id: str
    app_name: str | None = None
    log_path: str
    rule_id: str
    category: str | None = None
    severity: str | None = None
    title: str | None = None
    savings_core_hours: float
    savings_cost: float | None = None
    currency: str | None = None


class ProblemCount(BaseModel):
    rule_id: str
    category: str | None = None
    title: str | None = None
    apps: int
    savings_core_hours: float


class SlowApp(BaseModel):
    app_id: str
    app_name: str | None = None
    log_path: str
    duration_ms: int | None = None
    cost: float | None = None
    currency: str | None = None
    findings: int | None = None


class FleetView(BaseModel):
    apps: int = 0
    total_duration_ms: int = 0
    total_cost: float | None = None
    currency: str | None = None
    savings_core_hours: float = 0.0
    top_savings: list[SavingsOpportunity] = Field(default_factory=list)
    frequent_problems: list[ProblemCount] = Field(default_factory=list)
    slowest_apps: list[SlowApp] = Field(default_factory=list)


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def fleet_view(store: Store, hashes: Collection[str], top_n: int = 10) -> FleetView:
    """Summarize the stored applications whose log hashes are given."""
    if not hashes:
        return FleetView()
    with store.connect() as con:
        con.register("fleet", pa.table({"log_hash": pa.array(sorted(set(hashes)), pa.string())}))
        try:
            totals = _dicts(con.execute(
                "SELECT count(*) AS apps, coalesce(sum(duration_ms), 0) AS total_duration_ms, sum(cost) AS total_cost, "
                "any_value(currency) AS currency, coalesce(sum(savings_core_ms), 0) / ? AS savings_core_hours "
                "FROM applications JOIN fleet USING (log_hash)", [MS_PER_HOUR]))[0]
            top = _dicts(con.execute(
                "SELECT a.app_id, a.app_name, a.log_path, f.rule_id, f.category, f.severity, f.title, "
                "f.savings_core_ms / ? AS savings_core_hours, f.savings_cost, f.currency "
                "FROM findings f JOIN applications a USING (log_hash) JOIN fleet USING (log_hash) "
                "WHERE f.savings_core_ms > 0 ORDER BY f.savings_core_ms DESC, a.app_id LIMIT ?",
                [MS_PER_HOUR, top_n]))
            problems = _dicts(con.execute(
                "SELECT rule_id, any_value(category) AS category, any_value(title) AS title, "
                "count(DISTINCT log_hash) AS apps, coalesce(sum(savings_core_ms), 0) / ? AS savings_core_hours "
                "FROM findings JOIN fleet USING (log_hash) GROUP BY rule_id "
                "ORDER BY apps DESC, savings_core_hours DESC, rule_id LIMIT ?", [MS_PER_HOUR, top_n]))
            slowest = _dicts(con.execute(
                "SELECT app_id, app_name, log_path, duration_ms, cost, currency, findings "
                "FROM applications JOIN fleet USING (log_hash) WHERE duration_ms IS NOT NULL "
                "ORDER BY duration_ms DESC, app_id LIMIT ?", [top_n]))
        finally:
            con.unregister("fleet")
    return FleetView(
        **totals,
        top_savings=[SavingsOpportunity(**row) for row in top],
        frequent_problems=[ProblemCount(**row) for row in problems],
        slowest_apps=[SlowApp(**row) for row in slowest],
    )
