"""Loaders strip markup and keep structure; chunking keeps heading paths and sensible sizes."""

from __future__ import annotations

from pathlib import Path

from knowledge.chunking import MAX_WORDS, chunk_document, sections
from knowledge.loaders import MAX_FILE_BYTES, load_file


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_mdx_front_matter_imports_and_components_are_stripped(tmp_path: Path) -> None:
    path = _write(tmp_path / "page.mdx", '---\ntitle: Clustering guide\ndescription: x\n---\n\n'
                  'import { Tabs, Aside } from "@astrojs/starlight/components";\n\n'
                  '<Aside type="note">\n  Available in 3.1 and above.\n</Aside>\n\n## Enable it\n\n'
                  'Use [CLUSTER BY](#enable) on the table.\n')
    document, skipped = load_file(path, "page.mdx")
    assert skipped is None and document is not None
    assert document.title == "Clustering guide"
    assert "import" not in document.text and "<Aside" not in document.text and "title:" not in document.text
    assert "Available in 3.1 and above." in document.text
    assert "Use CLUSTER BY on the table." in document.text


def test_jekyll_markdown_keeps_code_and_flattens_html_tables(tmp_path: Path) -> None:
    path = _write(tmp_path / "conf.md", "---\nlayout: global\ndisplayTitle: Spark Configuration\n---\n"
                  "* This will become a table of contents (this text will be scraped).\n{:toc}\n\n"
                  "# Shuffle\n\n<table>\n<tr><td><code>spark.shuffle.compress</code></td><td>true</td></tr>\n</table>\n\n"
                  "{% highlight scala %}\nval conf = new SparkConf()\n{% endhighlight %}\n")
    document, _ = load_file(path, "conf.md")
    assert document is not None
    assert "spark.shuffle.compress | true" in document.text
    assert "```scala" in document.text and "val conf = new SparkConf()" in document.text
    assert "{%" not in document.text and "table of contents" not in document.text and "{:toc}" not in document.text


def test_html_page_becomes_headings_and_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "page.html", "<html><head><title>Photon</title><style>p{}</style></head><body>"
                  "<nav>menu</nav><h1>Photon</h1><p>Vectorized &amp; native.</p><h2>Cost</h2><p>Higher DBU rate.</p>"
                  "<script>alert(1)</script></body></html>")
    document, _ = load_file(path, "page.html")
    assert document is not None and document.title == "Photon"
    assert [p for p, _ in sections(document.text, document.title)] == [["Photon"], ["Photon", "Cost"]]
    assert "Vectorized & native." in document.text
    assert "menu" not in document.text and "alert" not in document.text


def test_chunks_carry_heading_path_in_metadata_and_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "guide.md", "# Guide\n\nIntro text.\n\n## Memory\n\nAbout memory.\n\n"
                  "### GC\n\nAbout GC.\n\n```\n# not a heading\n```\n\n## Disks\n\nAbout disks.\n")
    document, _ = load_file(path, "guide.md")
    chunks = chunk_document(document)
    paths = [c.heading_path for c in chunks]
    assert paths == ["Guide", "Guide > Memory", "Guide > Memory > GC", "Guide > Disks"]
    assert chunks[2].text.startswith("Guide > Memory > GC\n\n")
    assert "# not a heading" in chunks[2].text
    assert all(c.metadata["source"] == "guide.md" for c in chunks)


def test_long_sections_are_split_with_overlap_and_bounded_size(tmp_path: Path) -> None:
    words = [f"w{i}" for i in range(1000)]
    paragraphs = "\n\n".join(" ".join(words[i:i + 50]) for i in range(0, 1000, 50))
    document, _ = load_file(_write(tmp_path / "long.md", f"# Long\n\n{paragraphs}\n"), "long.md")
    chunks = chunk_document(document)
    assert len(chunks) >= 5
    assert all(len(c.text.split()) <= MAX_WORDS + 60 for c in chunks)
    bodies = [c.text.split("\n\n", 1)[1] for c in chunks]
    assert set(bodies[0].split()[-10:]) & set(bodies[1].split())  # consecutive chunks overlap
    covered = set(" ".join(bodies).split())
    assert set(words) <= covered


def test_bad_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    cases = {
        "empty.md": b"",
        "blank.md": b"   \n\n",
        "binary.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary",
        "latin1.md": "# Caf\u00e9 cr\u00e8me\n".encode("latin-1"),
        "image.png": b"\x89PNG",
    }
    reasons = {}
    for name, content in cases.items():
        document, skipped = load_file(_write(tmp_path / name, content), name)
        assert document is None and skipped is not None
        reasons[name] = skipped.reason
    huge = tmp_path / "huge.md"
    with huge.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    document, skipped = load_file(huge, "huge.md")
    assert document is None and "too large" in skipped.reason
    assert reasons["empty.md"] == reasons["blank.md"] == "empty file"
    assert reasons["binary.md"] == "binary file"
    assert "UTF-8" in reasons["latin1.md"]
    assert "unsupported" in reasons["image.png"]


def test_placeholders_and_inline_code_survive_markup_removal(tmp_path: Path) -> None:
    path = _write(tmp_path / "k8s.md", "# Pods\n\nUse <b>spark-submit</b> with `--conf spark.kubernetes.driver.pod.name=<driver-pod>`"
                  " and replace <service-name> by yours.\n\n<Aside type=\"tip\">Keep it short.</Aside>\n")
    document, _ = load_file(path, "k8s.md")
    assert "`--conf spark.kubernetes.driver.pod.name=<driver-pod>`" in document.text
    assert "replace <service-name> by yours" in document.text
    assert "Use spark-submit with" in document.text and "<b>" not in document.text
    assert "Keep it short." in document.text and "Aside" not in document.text
