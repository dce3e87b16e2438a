"""The configuration catalog of the installed Spark, extracted at run time from a local JVM.

SQL configs come from `SET -v`; core configs from Spark's registry of known config entries
(`ConfigEntry.knownConfigs`, reached through the Scala companion object over py4j). The
extraction runs in a child process (so a caller's own SparkSession is never touched) and
is cached as JSON under COPILOT_HOME, keyed by the PySpark version: the JVM starts once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import BaseModel, ValidationError

from knowledge.models import SourceDocument
from tools.errors import KnowledgeIndexError

CATALOG_KEY_PREFIX = "config:"
EXTRACT_TIMEOUT_S = 300


class ConfigEntry(BaseModel):
    key: str
    default: str
    meaning: str
    version: str  # the Spark version that introduced the key ("" when not declared)
    scope: str  # "sql" or "core"


class ConfigCatalog(BaseModel):
    spark_version: str
    entries: list[ConfigEntry]


def installed_spark_version() -> str:
    try:
        return version("pyspark")
    except PackageNotFoundError as exc:
        raise KnowledgeIndexError("pyspark is not installed: run `make install`") from exc


def _extract_in_this_process() -> ConfigCatalog:
    """Start a local SparkSession and read both registries (only ever run in a child process)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[1]").appName("spark-copilot-config-catalog")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    try:
        entries: dict[str, ConfigEntry] = {}
        for row in spark.sql("SET -v").collect():
            values = row.asDict()
            entries[values["key"]] = ConfigEntry(key=values["key"], default=str(values.get("value") or ""),
                                                 meaning=str(values.get("meaning") or ""),
                                                 version=str(values.get("Since version") or ""), scope="sql")
        companion = getattr(spark._jvm.org.apache.spark.internal.config, "ConfigEntry$").__getattr__("MODULE$")
        for entry in list(companion.knownConfigs().values()):
            if not entry.isPublic():
                continue
            key = entry.key()
            scope = "sql" if key in entries or key.startswith("spark.sql.") else "core"
            entries[key] = ConfigEntry(key=key, default=str(entry.defaultValueString()), meaning=str(entry.doc() or ""),
                                       version=str(entry.version() or ""), scope=scope)
        spark_version = str(spark.version)
    finally:
        spark.stop()
    return ConfigCatalog(spark_version=spark_version, entries=sorted(entries.values(), key=lambda e: e.key))


def catalog_cache_path(home: Path) -> Path:
    return home / "knowledge" / f"spark-config-catalog-{installed_spark_version()}.json"


def load_config_catalog(home: Path) -> ConfigCatalog:
    """The cached catalog, extracting it in a child JVM the first time."""
    cache = catalog_cache_path(home)
    if cache.is_file():
        try:
            return ConfigCatalog.model_validate_json(cache.read_text(encoding="utf-8"))
        except (ValidationError, ValueError, OSError):
            cache.unlink(missing_ok=True)  # damaged cache: extract again
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    try:
        subprocess.run([sys.executable, "-m", "knowledge.catalog", str(tmp)], check=True,
                       timeout=EXTRACT_TIMEOUT_S, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        raise KnowledgeIndexError(f"cannot extract the Spark config catalog (is Java 17+ on PATH?): {last[0]}") from exc
    tmp.replace(cache)
    return ConfigCatalog.model_validate_json(cache.read_text(encoding="utf-8"))


def cached_entry(home: Path, key: str) -> tuple[ConfigEntry, str] | None:
    """The catalog entry of `key` (any case) and the Spark release the catalog describes, when the catalog is
    already cached under `home`; None otherwise (an answer must not start a JVM to spell a key)."""
    cache = catalog_cache_path(home)
    try:
        stamp = cache.stat().st_mtime_ns
    except OSError:
        return None
    entries, spark_version = _entries_by_lower_key(cache, stamp)
    entry = entries.get(key.lower())
    return (entry, spark_version) if entry else None


@lru_cache(maxsize=2)
def _entries_by_lower_key(cache: Path, stamp: int) -> tuple[dict[str, ConfigEntry], str]:
    """The cached catalog's entries by lower-cased key (read once per file version)."""
    try:
        catalog = ConfigCatalog.model_validate_json(cache.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError):
        return {}, ""
    return {e.key.lower(): e for e in catalog.entries}, catalog.spark_version


def catalog_documents(catalog: ConfigCatalog) -> list[SourceDocument]:
    """One document (hence one chunk) per config key, with default, meaning and version."""
    documents = []
    for entry in catalog.entries:
        since = f" Since Spark {entry.version}." if entry.version else ""
        area = "Spark SQL configuration" if entry.scope == "sql" else "Spark core configuration"
        text = (f"## {entry.key}\n\n{entry.key}: {area}. Default: {entry.default or '(none)'}.{since}\n\n"
                f"{entry.meaning.strip() or 'No description is registered for this key.'}")
        documents.append(SourceDocument(
            key=CATALOG_KEY_PREFIX + entry.key, source=f"spark-config-catalog/{catalog.spark_version}",
            title=f"Spark {catalog.spark_version} configuration", text=text,
            metadata={"product": "spark", "kind": "config", "spark_version": catalog.spark_version,
                      "config_key": entry.key}))
    return documents


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.write_text(_extract_in_this_process().model_dump_json(), encoding="utf-8")
