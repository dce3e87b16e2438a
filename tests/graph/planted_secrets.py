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


