"""Advice for a partitioned Spark JDBC read of one table, measured on the database itself.

Given a SQLAlchemy URL and a table, reads the row count and, for every numeric, date or
timestamp column, its min / max / distinct / null counts (and, for integer columns, how
evenly rows fall into Spark's partition strides), then recommends `partitionColumn`,
`lowerBound`, `upperBound`, `numPartitions` and `fetchsize`, with the reasons. The
password (and any secret query parameter) never appears in an output or error.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, Field

from tools.errors import ConfigurationError
from tools.findings import ConfigChange, Evidence, Finding, Recommendation, Savings, Severity
from tools.redact import redact_text

DEFAULT_ROWS_PER_PARTITION = 1_000_000
DEFAULT_MAX_PARTITIONS = 64
DEFAULT_MAX_DISTINCT_ROWS = 10_000_000  # count(distinct) only on tables up to this size
DEFAULT_FETCHSIZE = 10_000
WIDE_TABLE_COLUMNS = 100
MAX_STRIDE_PROBES = 3  # integer columns whose value ranges are counted (one GROUP BY scan each)
SECRET_QUERY_KEYS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "sig")


class ColumnCandidate(BaseModel):
    """A column Spark could split the read on, with what the database says about it."""

    name: str
    type: str
    kind: str  # integer | decimal | date | timestamp
    primary_key: bool = False
    indexed: bool = False
    min_value: str | None = None
    max_value: str | None = None
    distinct: int | None = None  # None = not counted (table too large)
    nulls: int = 0
    stride_skew: float | None = None  # rows in the fullest stride / mean rows per stride (integers only)
    usable: bool = True
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list)


class JdbcAdvice(BaseModel):
    url: str  # SQLAlchemy URL, password redacted
    jdbc_url: str | None  # the matching JDBC URL for Spark, no credentials
    table: str
    dialect: str
    row_count: int
    column_count: int
    candidates: list[ColumnCandidate]
    partition_column: str | None
    lower_bound: str | None
    upper_bound: str | None
    num_partitions: int
    fetchsize: int
    options: dict[str, str]  # ready to pass to spark.read.format("jdbc").options(**options)
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list)


def redact_url(url: str) -> str:
    """`url` with its password and secret-looking query parameters replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return redact_text(url)
    query = {k: ("***" if any(word in k.lower() for word in SECRET_QUERY_KEYS) else v) for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def jdbc_url(url: str) -> str | None:
    """The JDBC URL Spark needs for the same database (without user or password), when the backend is known."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend, host, port, database = parsed.get_backend_name(), parsed.host or "localhost", parsed.port, parsed.database or ""
    if backend == "sqlite":
        return f"jdbc:sqlite:{database}" if database else None
    if backend == "postgresql":
        return f"jdbc:postgresql://{host}:{port or 5432}/{database}"
    if backend in ("mysql", "mariadb"):
        return f"jdbc:{backend}://{host}:{port or 3306}/{database}"
    if backend == "mssql":
        return f"jdbc:sqlserver://{host}:{port or 1433};databaseName={database}"
    if backend == "oracle":
        return f"jdbc:oracle:thin:@//{host}:{port or 1521}/{database}"
    return None


def advise_jdbc(
    url: str,
    table: str,
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION,
    max_partitions: int = DEFAULT_MAX_PARTITIONS,
    max_distinct_rows: int = DEFAULT_MAX_DISTINCT_ROWS,
) -> JdbcAdvice:
    """Measure `table` through `url` and recommend the options of a partitioned JDBC read."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    shown = redact_url(url)
    try:
        engine = create_engine(url)
    except Exception as exc:  # bad URL or missing driver: one line, no password
        raise ConfigurationError(f"cannot use {shown}: {_clean(exc, url)}") from exc
    try:
        with engine.connect() as connection:
            return _advise(connection, engine.dialect.name, url, shown, table, rows_per_partition, max_partitions, max_distinct_rows)
    except ConfigurationError:
        raise
    except (SQLAlchemyError, OSError, TypeError, ValueError) as exc:  # drivers raise their own types for bad options
        raise ConfigurationError(f"cannot read {table} from {shown}: {_clean(exc, url)}") from exc
    finally:
        engine.dispose()


def _clean(exc: BaseException, url: str) -> str:
    """First line of an error, with the URL's password removed wherever it appears."""
    from sqlalchemy.engine import make_url

    orig = getattr(exc, "orig", None) or exc
    detail = orig.args[0] if getattr(orig, "args", None) else None
    if isinstance(detail, dict) and detail.get("M"):  # pg8000 reports the server's error fields as a dict
        orig = detail["M"]
    text = str(orig).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        line = line.replace(str(password), "***")
    return redact_text(line)


def _advise(connection, dialect, url, shown, table, rows_per_partition, max_partitions, max_distinct_rows) -> JdbcAdvice:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import NoSuchTableError

    schema, _, name = table.rpartition(".")
    try:
        reflected = Table(name, MetaData(), autoload_with=connection, schema=schema or None)
    except NoSuchTableError as exc:
        raise ConfigurationError(f"no table {table} in {shown}") from exc
    indexed = _indexed_columns(reflected)
    measured = [(column, kind) for column in reflected.columns if (kind := _kind(column.type)) is not None]
    row_count, measurements = _measure_columns(connection, reflected, measured, indexed, max_distinct_rows)
    wanted = max(1, min(max_partitions, math.ceil(row_count / max(1, rows_per_partition))))
    _measure_strides(connection, reflected, measurements, row_count, wanted)
    candidates = [candidate for candidate, *_ in measurements]
    candidates.sort(key=lambda c: c.score, reverse=True)
    best = next((c for c in candidates if c.usable), None)
    reasons: list[str] = []
    warnings: list[str] = []
    num_partitions = wanted
    if best is not None and best.distinct is not None and best.distinct < num_partitions:
        num_partitions = max(1, best.distinct)
        reasons.append(f"numPartitions capped at {num_partitions}: {best.name} has only {best.distinct} distinct values")
    fetchsize = DEFAULT_FETCHSIZE if len(reflected.columns) <= WIDE_TABLE_COLUMNS else DEFAULT_FETCHSIZE // 5
    reasons.append(_fetchsize_reason(dialect, fetchsize, len(reflected.columns)))
    options = {"dbtable": table, "fetchsize": str(fetchsize)}
    jdbc = jdbc_url(url)
    if jdbc:
        options["url"] = jdbc
    if row_count <= rows_per_partition or best is None or num_partitions <= 1:
        reasons.insert(0, _single_read_reason(row_count, rows_per_partition, best))
        return JdbcAdvice(
            url=shown, jdbc_url=jdbc, table=table, dialect=dialect, row_count=row_count, column_count=len(reflected.columns),
            candidates=candidates, partition_column=None, lower_bound=None, upper_bound=None, num_partitions=1,
            fetchsize=fetchsize, options=options, reasons=reasons, warnings=warnings,
        )
    reasons.insert(0, f"{row_count} rows / {rows_per_partition} rows per partition -> {num_partitions} partitions (at most {max_partitions})")
    reasons.insert(1, f"partitionColumn {best.name}: " + "; ".join(best.reasons))
    if not best.indexed and not best.primary_key:
        warnings.append(f"{best.name} has no index: each of the {num_partitions} range queries scans the whole table; index it or pick an indexed column")
    if best.nulls:
        warnings.append(f"{best.nulls} rows have NULL {best.name}; Spark reads them in the first partition")
    options.update(partitionColumn=best.name, lowerBound=str(best.min_value), upperBound=str(best.max_value), numPartitions=str(num_partitions))
    return JdbcAdvice(
        url=shown, jdbc_url=jdbc, table=table, dialect=dialect, row_count=row_count, column_count=len(reflected.columns),
        candidates=candidates, partition_column=best.name, lower_bound=str(best.min_value), upper_bound=str(best.max_value),
        num_partitions=num_partitions, fetchsize=fetchsize, options=options, reasons=reasons, warnings=warnings,
    )


def _single_read_reason(row_count: int, rows_per_partition: int, best: ColumnCandidate | None) -> str:
    if row_count <= rows_per_partition:
        return f"{row_count} rows fit in one partition ({rows_per_partition} rows per partition): a partitioned read would only add queries"
    return "no numeric, date or timestamp column with distinct values to split on: read with one query, or use `predicates`"


def _fetchsize_reason(dialect: str, fetchsize: int, columns: int) -> str:
    defaults = {
        "oracle": "the Oracle driver fetches 10 rows per round trip by default",
        "postgresql": "the PostgreSQL driver fetches the whole result into memory unless fetchsize is set",
        "mysql": "MySQL Connector/J needs useCursorFetch=true in the URL for fetchsize to take effect",
    }
    width = f" (reduced for a wide table of {columns} columns)" if columns > WIDE_TABLE_COLUMNS else ""
    return f"fetchsize {fetchsize}{width}: {defaults.get(dialect, 'bounds driver memory while keeping round trips few')}"


def _kind(column_type) -> str | None:
    from sqlalchemy import types

    if isinstance(column_type, types.Boolean):
        return None
    if isinstance(column_type, types.Integer):
        return "integer"
    if isinstance(column_type, (types.Numeric, types.Float)):
        return "decimal"
    if isinstance(column_type, types.DateTime):
        return "timestamp"
    if isinstance(column_type, types.Date):
        return "date"
    return None


def _indexed_columns(table) -> set[str]:
    names = {c.name for c in table.primary_key.columns}
    for index in table.indexes:
        columns = list(index.columns)
        if columns:
            names.add(columns[0].name)  # a range query uses an index on its leading column
    return names


def _measure_columns(connection, table, measured, indexed, max_distinct_rows) -> tuple[int, list[tuple]]:
    """Row count and min / max / NULLs of every candidate column in one scan; distinct counts in a second one.

    Returns the row count and (candidate, column, min, max) per measured column."""
    from sqlalchemy import distinct, func, select

    aggregates = [func.count()]
    for column, _ in measured:
        aggregates += [func.min(column), func.max(column), func.count(column)]
    values = connection.execute(select(*aggregates).select_from(table)).one()
    row_count = int(values[0])
    candidates = []
    for index, (column, kind) in enumerate(measured):
        low, high, non_null = values[1 + 3 * index : 4 + 3 * index]
        candidate = ColumnCandidate(name=column.name, type=str(column.type), kind=kind, primary_key=column.primary_key, indexed=column.name in indexed)
        candidate.nulls = row_count - int(non_null or 0)
        candidate.min_value = None if low is None else _bound_text(low)
        candidate.max_value = None if high is None else _bound_text(high)
        if low is None or low == high:
            candidate.usable = False
            candidate.reasons.append("all values equal or NULL")
        candidates.append((candidate, column, low, high))
    if measured and row_count <= max_distinct_rows:
        distincts = connection.execute(select(*[func.count(distinct(column)) for column, _ in measured]).select_from(table)).one()
        for (candidate, *_), count in zip(candidates, distincts):
            candidate.distinct = int(count)
    for candidate, _, _, _ in candidates:
        if candidate.usable:
            _score(candidate, row_count)
    return row_count, candidates


def _measure_strides(connection, table, measurements: list[tuple], row_count: int, partitions: int) -> None:
    """Stride skew of the best few integer columns (one GROUP BY scan each), then their final scores."""
    if partitions <= 1:
        return
    integers = sorted((m for m in measurements if m[0].usable and m[0].kind == "integer"), key=lambda m: m[0].score, reverse=True)
    for candidate, column, low, high in integers[:MAX_STRIDE_PROBES]:
        candidate.stride_skew = _stride_skew(connection, table, column, int(low), int(high), partitions, row_count - candidate.nulls)
        candidate.reasons.clear()
        _score(candidate, row_count)


def _bound_text(value: object) -> str:
    """A bound as Spark's lowerBound/upperBound expects it (dates and timestamps as ISO text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _stride_skew(connection, table, column, low: int, high: int, partitions: int, non_null: int) -> float | None:
    """Rows in the fullest of `partitions` equal value ranges over the mean: 1.0 = even."""
    from sqlalchemy import func, select

    stride = max(1, math.ceil((high - low + 1) / partitions))
    buckets = select(((column - low) // stride).label("bucket")).where(column.isnot(None)).subquery()  # integer floor division
    rows = connection.execute(select(buckets.c.bucket, func.count()).group_by(buckets.c.bucket)).all()
    if not rows or not non_null:
        return None
    return max(int(count) for _, count in rows) / (non_null / partitions)


def _score(candidate: ColumnCandidate, row_count: int) -> None:
    """Higher is better: indexed, unique-ish, evenly spread, few NULLs, integer before dates before decimals."""
    score = {"integer": 3.0, "date": 2.0, "timestamp": 2.0, "decimal": 1.0}[candidate.kind]
    if candidate.primary_key:
        score += 3
        candidate.reasons.append("primary key")
    elif candidate.indexed:
        score += 2
        candidate.reasons.append("indexed")
    else:
        candidate.reasons.append("not indexed")
    if candidate.distinct is not None and row_count:
        uniqueness = candidate.distinct / row_count
        score += 2 * uniqueness
        candidate.reasons.append(f"{candidate.distinct} distinct values")
    if candidate.stride_skew is not None:
        score += 3 / candidate.stride_skew
        candidate.reasons.append(f"fullest stride holds {candidate.stride_skew:.1f}x the mean rows")
    if candidate.nulls and row_count:
        score -= 2 * candidate.nulls / row_count
        candidate.reasons.append(f"{candidate.nulls} NULLs")
    candidate.reasons.append(f"range {candidate.min_value} .. {candidate.max_value}")
    candidate.score = round(score, 3)


_JDBC_SCAN = re.compile(r"JDBCRelation\((?P<table>[^)]*)\)\s*\[numPartitions=(?P<partitions>\d+)\]")


class JdbcScanThresholds(BaseModel):
    min_rows: int = DEFAULT_ROWS_PER_PARTITION  # a single-query read of fewer rows is fine
    rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION
    max_partitions: int = DEFAULT_MAX_PARTITIONS


def jdbc_scan_findings(profile, thresholds: JdbcScanThresholds | None = None) -> list[Finding]:
    """JDBC scans in the application's plans that read many rows through too few queries."""
    thresholds = thresholds or JdbcScanThresholds()
    findings: list[Finding] = []
    for execution in profile.sql_executions:
        for node in execution.nodes:
            match = _JDBC_SCAN.search(f"{node.name} {node.description}")
            rows = node.metrics.get("number of output rows")
            if match is None or rows is None or rows < thresholds.min_rows:
                continue
            partitions = int(match["partitions"])
            wanted = max(1, min(thresholds.max_partitions, math.ceil(rows / thresholds.rows_per_partition)))
            if partitions >= wanted:
                continue
            table = match["table"]
            findings.append(
                Finding(
                    rule_id="jdbc_too_few_partitions",
                    category="too_few_partitions",
                    severity=Severity.severe if partitions == 1 and wanted >= 8 else Severity.moderate,
                    title=f"JDBC read of {table} pulled {rows:,.0f} rows through {partitions} quer{'y' if partitions == 1 else 'ies'}",
                    sql_execution_ids=[execution.execution_id],
                    evidence=[
                        Evidence(name=f"rows read from {table}", value=rows, unit="rows", threshold=thresholds.min_rows),
                        Evidence(name="numPartitions", value=partitions, unit="count", threshold=wanted),
                    ],
                    recommendation=Recommendation(
                        summary=(
                            f"Read {table} in about {wanted} parallel range queries: set partitionColumn, lowerBound, upperBound and "
                            f"numPartitions={wanted}, plus fetchsize. `copilot jdbc advise URL {table}` measures the table and picks them."
                        ),
                        config_changes=[ConfigChange(key="numPartitions", value=str(wanted), current=str(partitions)), ConfigChange(key="fetchsize", value=str(DEFAULT_FETCHSIZE))],
                    ),
                    estimated_savings=Savings(method="not estimated: depends on the database's throughput per connection"),
                    doc_query="JDBC partitionColumn lowerBound upperBound numPartitions fetchsize",
                )
            )
    return findings
