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


def plant_text(text: str, properties: dict[str, str] | None = None, description: str | None = None,
               plan_prefix: str | None = None) -> str:
    """An event log's text with `properties` added to its environment and, in every SQL execution start,
    `description` as the description and `plan_prefix` put in front of the physical plan."""
    out = []
    for line in text.splitlines():
        event = json.loads(line) if line.strip() else None
        if event and properties and event.get("Event") == "SparkListenerEnvironmentUpdate":
            props = event.setdefault("Spark Properties", [])
            if isinstance(props, dict):
                props.update(properties)
            else:
                props.extend([k, v] for k, v in properties.items())
            line = json.dumps(event)
        elif event and (description or plan_prefix) and event.get("Event", "").endswith("SparkListenerSQLExecutionStart"):
            if description:
                event["description"] = description
            if plan_prefix:
                event["physicalPlanDescription"] = plan_prefix + event.get("physicalPlanDescription", "")
            line = json.dumps(event)
        out.append(line)
    return "\n".join(out) + "\n"


def plant(source: Path, target: Path) -> Path:
    """Copy an event log, adding secret-bearing properties and a JDBC URL with a password to its environment."""
    target.write_text(plant_text(source.read_text(), properties=SECRETS))
    return target

PLAN_SECRETS = ("PlanPw77", "PlanPw78")
JDBC_IN_PLAN = "Scan JDBCRelation(jdbc:postgresql://etl:PlanPw77@db.internal:5432/sales?sslmode=require&password=PlanPw78)"


def plant_in_plans(source: Path, target: Path) -> Path:
    """Copy an event log, putting a JDBC URL with credentials into every SQL execution's description and plan."""
    target.write_text(plant_text(source.read_text(), description=f"load from {JDBC_IN_PLAN}",
                                 plan_prefix=f"== Physical Plan ==\n{JDBC_IN_PLAN}\n"))
    return target
