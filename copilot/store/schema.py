"""The history store's schema as an ordered list of migrations.

A store records the versions it has applied in `schema_version`; opening a store
applies the missing ones in order, each in its own transaction, so a store written
by an older copilot is upgraded in place and never rebuilt.
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb

from tools.errors import ConfigurationError


class Migration(NamedTuple):
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "applications, stages, findings, predictions, reports, batch runs and failures",
        (
            """
            CREATE TABLE applications (
                log_hash VARCHAR PRIMARY KEY,
                log_path VARCHAR NOT NULL,
                log_bytes BIGINT,
                app_id VARCHAR NOT NULL,
                attempt_id VARCHAR,
                app_name VARCHAR,
                user_name VARCHAR,
                spark_version VARCHAR,
                master VARCHAR,
                start_time_ms BIGINT,
                end_time_ms BIGINT,
                duration_ms BIGINT,
                complete BOOLEAN,
                executors INTEGER,
                total_tasks BIGINT,
                failed_tasks BIGINT,
                allocated_core_ms DOUBLE,
                used_core_ms DOUBLE,
                cost DOUBLE,
                currency VARCHAR,
                findings INTEGER,
                savings_core_ms DOUBLE,
                savings_cost DOUBLE,
                analysis_ms DOUBLE,
                analyzer VARCHAR,
                run_id VARCHAR,
                analyzed_at TIMESTAMP
            )
            """,
            """
            CREATE TABLE stages (
                log_hash VARCHAR NOT NULL,
                stage_id INTEGER NOT NULL,
                attempt_id INTEGER NOT NULL,
                name VARCHAR,
                status VARCHAR,
                num_tasks INTEGER,
                tasks_failed INTEGER,
                duration_ms BIGINT,
                task_time_ms DOUBLE,
                gc_time_ms DOUBLE,
                input_bytes DOUBLE,
                output_bytes DOUBLE,
                shuffle_read_bytes DOUBLE,
                shuffle_write_bytes DOUBLE,
                memory_bytes_spilled DOUBLE,
                disk_bytes_spilled DOUBLE,
                task_duration_median_ms DOUBLE,
                task_duration_max_ms DOUBLE,
                PRIMARY KEY (log_hash, stage_id, attempt_id)
            )
            """,
            """
            CREATE TABLE findings (
                log_hash VARCHAR NOT NULL,
                rank INTEGER NOT NULL,
                rule_id VARCHAR NOT NULL,
                category VARCHAR,
                severity VARCHAR,
                title VARCHAR,
                stage_ids INTEGER[],
                savings_core_ms DOUBLE,
                savings_wall_ms DOUBLE,
                savings_cost DOUBLE,
                currency VARCHAR,
                recommendation VARCHAR,
                finding_json VARCHAR,
                PRIMARY KEY (log_hash, rank)
            )
            """,
            """
            CREATE TABLE predictions (
                log_hash VARCHAR NOT NULL,
                ordinal INTEGER NOT NULL,
                kind VARCHAR,
                subject VARCHAR,
                executors INTEGER,
                runtime_ms DOUBLE,
                runtime_low_ms DOUBLE,
                runtime_high_ms DOUBLE,
                cost DOUBLE,
                method VARCHAR,
                PRIMARY KEY (log_hash, ordinal)
            )
            """,
            """
            CREATE TABLE reports (
                log_hash VARCHAR PRIMARY KEY,
                produced_by VARCHAR,
                report_json VARCHAR
            )
            """,
            """
            CREATE TABLE batch_runs (
                run_id VARCHAR PRIMARY KEY,
                source VARCHAR,
                engine VARCHAR,
                workers INTEGER,
                host VARCHAR,
                pid INTEGER,
                status VARCHAR,
                started_at TIMESTAMP,
                finished_at TIMESTAMP,
                discovered INTEGER,
                analyzed INTEGER,
                skipped INTEGER,
                failed INTEGER,
                bytes_analyzed BIGINT
            )
            """,
            """
            CREATE TABLE batch_failures (
                log_hash VARCHAR PRIMARY KEY,
                log_path VARCHAR,
                reason VARCHAR,
                run_id VARCHAR,
                failed_at TIMESTAMP
            )
            """,
        ),
    ),
    Migration(
        2,
        "log_files: path, size and mtime -> content hash, so a re-run skips unchanged files unread",
        (
            """
            CREATE TABLE log_files (
                log_path VARCHAR PRIMARY KEY,
                log_bytes BIGINT,
                log_mtime_ns BIGINT,
                log_hash VARCHAR,
                seen_at TIMESTAMP
            )
            """,
            "CREATE INDEX applications_by_name ON applications (app_name)",
        ),
    ),
    Migration(
        3,
        "api_jobs: analyses submitted through the HTTP API, their status, timings and report",
        (
            """
            CREATE TABLE api_jobs (
                job_id VARCHAR PRIMARY KEY,
                status VARCHAR NOT NULL,
                source_kind VARCHAR NOT NULL,
                source VARCHAR,
                log_path VARCHAR,
                question VARCHAR,
                table_path VARCHAR,
                app_ids VARCHAR[],
                log_hashes VARCHAR[],
                findings INTEGER,
                error VARCHAR,
                host VARCHAR,
                pid INTEGER,
                created_at TIMESTAMP,
                started_at TIMESTAMP,
                finished_at TIMESTAMP,
                report_json VARCHAR
            )
            """,
        ),
    ),
    Migration(
        4,
        "api_jobs.depth: full analysis or findings only",
        ("ALTER TABLE api_jobs ADD COLUMN depth VARCHAR DEFAULT 'full'",),
    ),
    Migration(
        5,
        "applications.peak_executors (most alive at once) and interactive_shell (spark-shell, pyspark shell, REPL)",
        ("ALTER TABLE applications ADD COLUMN peak_executors INTEGER",
         "ALTER TABLE applications ADD COLUMN interactive_shell VARCHAR"),
    ),
    Migration(
        6,
        "settings: each application's Spark properties (secrets redacted), so a comparison names the ones that changed",
        ("CREATE TABLE settings (log_hash VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR, PRIMARY KEY (log_hash, key))",),
    ),
    Migration(
        7,
        "stages.what_ran: the SQL execution and operators that ran in a stage, to show it and to pair it across runs",
        ("ALTER TABLE stages ADD COLUMN what_ran VARCHAR",),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration (0 for an empty database)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection, target: int = LATEST_VERSION, where: str = "store") -> int:
    """Apply the missing migrations up to `target`, each atomically; returns the resulting version."""
    version = current_version(con)
    if version > LATEST_VERSION:
        raise ConfigurationError(
            f"history store {where} has schema version {version}, newer than this copilot supports "
            f"({LATEST_VERSION}); upgrade spark-copilot or point COPILOT_STORE_PATH elsewhere"
        )
    if version == 0:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
    for migration in MIGRATIONS:
        if version < migration.version <= target:
            con.execute("BEGIN TRANSACTION")
            try:
                for statement in migration.statements:
                    con.execute(statement)
                con.execute(
                    "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                    [migration.version, migration.description],
                )
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            version = migration.version
    return version
