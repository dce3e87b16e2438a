"""The installed PySpark's DataFrame API reference in the knowledge index: docstrings as plain text, found by
the questions people ask about the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.api_reference import API_KEY_PREFIX, api_documents, api_names, plain_docstring
from knowledge.index import KnowledgeIndex

NUMPYDOC = """Persists the :class:`DataFrame` with a :meth:`~pyspark.sql.DataFrame.storageLevel`.

.. versionadded:: 1.3.0

.. versionchanged:: 3.4.0
    Supports Spark Connect.

Notes
-----
See `Data Source Option <https://spark.apache.org/docs/latest/x.html>`_ for the version you use.

Parameters
----------
storageLevel : :class:`StorageLevel`
    Storage level to set.

    .. versionchanged:: 2.0.0
       Accepts a string.

    .. # noqa

Returns
-------
:class:`DataFrame`
    Persisted DataFrame.

Examples
--------
>>> df.persist()
DataFrame[id: bigint]
"""


def test_a_docstring_becomes_plain_text_with_its_version() -> None:
    assert plain_docstring(NUMPYDOC) == (
        "Persists the `DataFrame` with a `pyspark.sql.DataFrame.storageLevel`.\n\n"
        "Notes:\n"
        "See Data Source Option (https://spark.apache.org/docs/latest/x.html) for the version you use.\n\n"
        "Parameters:\n"
        "storageLevel : `StorageLevel`\n"
        "    Storage level to set.\n\n"
        "Since Spark 1.3.0.")


def test_long_docstrings_are_cut_at_a_paragraph() -> None:
    long = "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(20))
    text = plain_docstring(long)
    assert 600 < len(text) <= 1200 and text.endswith("word")


@pytest.fixture(scope="module")
def documents():
    return api_documents()


def test_every_documented_public_method_of_the_tuning_classes_is_one_document(documents) -> None:
    from pyspark.sql import DataFrame

    keys = {d.key for d in documents}
    assert len(keys) == len(documents)
    assert {"api:DataFrame.cache", "api:DataFrame.persist", "api:DataFrame.coalesce", "api:DataFrame.repartition",
            "api:DataFrameWriter.partitionBy", "api:functions.broadcast", "api:functions.collect_set",
            "api:functions.percentile"} <= keys
    assert not [k for k in keys if k.split(":")[1].split(".")[-1].startswith("_")]
    documented = [n for n in dir(DataFrame) if not n.startswith("_") and getattr(DataFrame, n).__doc__]
    assert {f"api:DataFrame.{n}" for n in documented} <= keys
    persist = next(d for d in documents if d.key == "api:DataFrame.persist")
    assert persist.text.startswith("## DataFrame.persist\n\n`DataFrame.persist(storageLevel")
    assert "Since Spark 1.3.0." in persist.text and "MEMORY_AND_DISK_DESER" in persist.text
    for d in documents:  # no Sphinx markup, no doctests left
        assert ":class:" not in d.text and ">>> " not in d.text and "\n.. " not in d.text, d.key
        assert d.metadata["kind"] == "api" and d.key.startswith(API_KEY_PREFIX)


def test_api_questions_find_the_methods_they_name(documents, tmp_path: Path) -> None:
    index = KnowledgeIndex.open(tmp_path / "index")
    index.ingest_documents(documents, scopes=[API_KEY_PREFIX])
    stats = index.stats()
    assert stats.documents == len(documents) and set(stats.by_kind) == {"api"}
    assert stats.by_kind["api"] < 1.05 * len(documents)  # one chunk per method (a very long signature takes two)
    found = [p.heading_path for p in index.search("what is the difference between cache and persist?", 3)]
    assert {h.rsplit(" > ", 1)[1] for h in found} >= {"DataFrame.cache", "DataFrame.persist"}, found
    [top] = index.search("coalesce instead of repartition", 1)
    assert top.heading_path.endswith("DataFrame.coalesce") and "narrow dependency" in top.text
    named = index.search("when should I use it?", 2, {"kind": "api", "api_name": ["DataFrame.cache", "functions.broadcast"]})
    assert sorted(p.heading_path.rsplit(" > ", 1)[1] for p in named) == ["DataFrame.cache", "functions.broadcast"]
    assert api_names()["cache"] == ["DataFrame.cache"] and "Catalog.cacheTable" in api_names()["cachetable"]
    assert api_names()["collect_set"] == ["functions.collect_set"]  # 'what does collect_set do?' found nothing
    again = index.ingest_documents(documents, scopes=[API_KEY_PREFIX])
    assert again.unchanged_files == len(documents) and not again.changed
