"""Plant secrets in a copy of a real event log (properties and a JDBC URL with a password)."""

from __future__ import annotations

import json
from pathlib import Path

SECRETS = {
    "spark.hadoop.fs.s3a.secret.key": "S3CRETkeyVALUEdoNotLeak42",
    "spark.myapp.db.password": "hunter2-PLANTED-pw",
    "spark.myapp.jdbc.url": "jdbc:postgresql://db.internal:5432/sales?user=etl&password=JdbcPlantedPw99",
}
SECRET_VALUES = ("S3CRETkeyVALUEdoNotLeak42", "hunter2-PLANTED-pw", "JdbcPlantedPw99")


def plant(source: Path, target: Path) -> Path:
    """Copy an event log, adding secret-bearing properties and a JDBC URL with a password to its environment."""
    lines = source.read_text().splitlines()
    out = []
    for line in lines:
        event = json.loads(line) if line.strip() else None
        if event and event.get("Event") == "SparkListenerEnvironmentUpdate":
            props = event.setdefault("Spark Properties", [])
            if isinstance(props, dict):
                props.update(SECRETS)
            else:
                props.extend([k, v] for k, v in SECRETS.items())
            line = json.dumps(event)
        out.append(line)
    target.write_text("\n".join(out) + "\n")
    return target



PLAN_SECRETS = ("PlanPw77", "PlanPw78")
JDBC_IN_PLAN = "Scan JDBCRelation(jdbc:postgresql://etl:PlanPw77@db.internal:5432/sales?sslmode=require&password=PlanPw78)"


def plant_in_plans(source: Path, target: Path) -> Path:
    """Copy an event log, putting a JDBC URL with credentials into every SQL execution's description and plan."""
    out = []
    for line in source.read_text().splitlines():
        event = json.loads(line) if line.strip() else None
        if event and event.get("Event", "").endswith("SparkListenerSQLExecutionStart"):
            event["description"] = f"load from {JDBC_IN_PLAN}"
            event["physicalPlanDescription"] = f"== Physical Plan ==\n{JDBC_IN_PLAN}\n" + event.get("physicalPlanDescription", "")
            line = json.dumps(event)
        out.append(line)
    target.write_text("\n".join(out) + "\n")
    return target
