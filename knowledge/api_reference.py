"""The DataFrame API reference of the installed PySpark, read from its docstrings into the default index.

Questions like "what is the difference between cache and persist?" or "what does coalesce do?" are about
the API, not about configuration: the config catalog and our cards do not answer them. PySpark ships its
reference as docstrings, so the index takes them from the installed package (no download, the version the
project runs): one document per public method of the classes people tune with, and of a few functions
that change how Spark executes (broadcast hints, UDFs, partition ids). Sphinx markup is reduced to plain
text and the doctest examples are left out (the encoder reads the first 128 tokens; BM25 reads all).
"""

from __future__ import annotations

import importlib
import inspect
import re
from functools import lru_cache

from knowledge.catalog import installed_spark_version
from knowledge.models import SourceDocument

API_KEY_PREFIX = "api:"
# The classes whose methods decide how a job runs (caching, partitioning, joins, reading and writing).
API_CLASSES = (
    "pyspark.sql.DataFrame", "pyspark.sql.DataFrameReader", "pyspark.sql.DataFrameWriter", "pyspark.sql.GroupedData",
    "pyspark.sql.SparkSession", "pyspark.sql.Catalog", "pyspark.sql.window.Window", "pyspark.sql.window.WindowSpec",
)
# Functions that change execution rather than compute a value, and aggregates whose cost people ask about
# (collecting a group's values into one row, exact percentiles).
API_FUNCTIONS = ("broadcast", "udf", "pandas_udf", "spark_partition_id", "monotonically_increasing_id",
                 "approx_count_distinct", "count_distinct", "percentile_approx", "explode", "input_file_name",
                 "collect_list", "collect_set", "percentile")
MAX_CHARS = 1200  # about one chunk: what a method does and its notes come first, parameters after

_ROLE = re.compile(r":(?:class|meth|func|attr|py:\w+|mod|obj|ref):\s*`~?([^`]+)`")
_VERSION_ADDED = re.compile(r"^\.\. versionadded::\s*(\S+)\s*$", re.M)
# a directive line and the lines indented under it (or blank)
_DIRECTIVE = re.compile(r"^([ \t]*)\.\. [\w-]+::.*(?:\n(?:\1[ \t]+\S.*|[ \t]*(?=\n)))*", re.M)
_COMMENT = re.compile(r"^[ \t]*\.\. #.*\n?", re.M)
_LINK = re.compile(r"`([^`<]+?)\s*<([^>]+)>`_")
_UNDERLINE = re.compile(r"^(\S[^\n]*)\n-{3,}\s*$", re.M)
_EXAMPLES = re.compile(r"^Examples:$.*", re.M | re.S)  # doctests: long, and the signature says how to call it
_RETURNS = re.compile(r"^Returns:\n(?:.+\n?)*", re.M)  # 'DataFrame: the result' says little


def _find(path: str) -> object | None:
    """The object at a dotted path; None when this PySpark does not have it (an older release)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def plain_docstring(doc: str) -> str:
    """A numpydoc/Sphinx docstring as plain text: roles unwrapped, 'Since X' for versionadded, other directives
    (versionchanged, seealso), comments and the Returns and Examples sections dropped, section headings turned
    into labels."""
    added = _VERSION_ADDED.search(doc)
    text = _ROLE.sub(r"`\1`", doc)
    text = _DIRECTIVE.sub("", _COMMENT.sub("", text))
    text = _LINK.sub(r"\1 (\2)", text)
    text = _UNDERLINE.sub(r"\1:", text)  # a label, not a heading: one method stays one chunk
    text = _EXAMPLES.sub("", text)
    text = _RETURNS.sub("", text).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if len(text) > MAX_CHARS:  # whole paragraphs only
        text = text[: text.rfind("\n\n", 0, MAX_CHARS)].rstrip() if "\n\n" in text[:MAX_CHARS] else text[:MAX_CHARS]
    return text + (f"\n\nSince Spark {added.group(1)}." if added else "")


def _signature(member: object) -> str:
    try:
        text = str(inspect.signature(member)).replace("'", "")
    except (TypeError, ValueError):
        return ""
    text = re.sub(r"ForwardRef\((\w+)\)", r"\1", text)
    return text.replace("(self, ", "(", 1).replace("(self)", "()", 1)


@lru_cache(maxsize=4)
def api_documents(classes: tuple[str, ...] = API_CLASSES, functions: tuple[str, ...] = API_FUNCTIONS) -> list[SourceDocument]:
    """One document per public, documented method of `classes` and per named function of pyspark.sql.functions.

    Built once per process (importing pyspark.sql and reading ~250 docstrings takes ~0.2 s): the default index's
    refresh and the chat's method names read the same list, which callers must not change."""
    spark_version = installed_spark_version()
    members: list[tuple[str, object]] = []
    for cls in filter(None, map(_find, classes)):
        members += [(f"{cls.__name__}.{name}", member) for name, member in inspect.getmembers(cls) if not name.startswith("_")]
    members += [(f"functions.{name}", _find(f"pyspark.sql.functions.{name}")) for name in functions]
    documents = []
    for name, member in members:
        doc = inspect.getdoc(member)
        if not doc or not (inspect.isroutine(member) or isinstance(member, property)):
            continue  # constants (Window.currentRow) would bring their type's docstring
        call = f"{name}{_signature(member)}" if callable(member) else name
        documents.append(SourceDocument(
            key=API_KEY_PREFIX + name, source=f"pyspark-api/{spark_version}", title=f"PySpark {spark_version} API",
            text=f"## {name}\n\n`{call}`\n\n{plain_docstring(doc)}",
            metadata={"product": "spark", "kind": "api", "spark_version": spark_version, "api_name": name}))
    return documents


@lru_cache(maxsize=1)
def api_names() -> dict[str, list[str]]:
    """Method or function name, lower-cased -> the documented API names it is ('cache' -> ['DataFrame.cache'])."""
    names: dict[str, list[str]] = {}
    for document in api_documents():
        full = document.metadata["api_name"]
        names.setdefault(full.rsplit(".", 1)[-1].lower(), []).append(full)
    return names
