"""Read Markdown/MDX, HTML and plain-text files into clean Markdown-like text with `#` headings.

Front matter, MDX imports and JSX components, Jekyll/Liquid tags and HTML markup are
stripped; code blocks are kept (config examples are worth finding). Files that are empty,
binary, too large or not UTF-8 are reported as skipped, never raised.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import yaml

from knowledge.models import SkippedFile, SourceDocument

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdx"}
HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt", ".text", ".rst"}
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES
MAX_FILE_BYTES = 5 * 1024 * 1024

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIQUID_HIGHLIGHT = re.compile(r"\{%\s*highlight\s+(\w+)[^%]*%\}")
_LIQUID_END_HIGHLIGHT = re.compile(r"\{%\s*endhighlight\s*%\}")
_LIQUID_TAG = re.compile(r"\{%.*?%\}")
_LIQUID_VAR = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
_KRAMDOWN_ATTR = re.compile(r"\{:[^}]*\}")
_MDX_IMPORT = re.compile(r"^\s*(import|export)\s.+$")
_HTML_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_HTML_ROW_END = re.compile(r"</tr\s*>|<br\s*/?>|</p\s*>|</li\s*>|</h\d\s*>|</div\s*>", re.I)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAGS = ("a|abbr|b|blockquote|br|caption|code|col|colgroup|dd|del|details|div|dl|dt|em|figcaption|figure|"
              "h[1-6]|hr|i|img|kbd|li|ol|p|pre|s|small|span|strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|"
              "tr|u|ul|var|video|source|iframe|center|font")
# Real HTML tags and capitalised JSX components; `<app-id>`-style placeholders in prose are kept.
_TAG = re.compile(rf"</?(?:(?:{_HTML_TAGS})\b|[A-Z][A-Za-z0-9.]*)(\s[^<>]*)?/?>")
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$")
_TOC_LINE = re.compile(r"^\s*\*\s*This will become a table of contents.*$", re.I)


def toggles_code_block(line: str) -> bool:
    """A fence line that opens or closes a code block (a one-line ```sql ... ``` block does neither)."""
    if not _FENCE.match(line):
        return False
    stripped = line.strip()
    fence = stripped[:3]
    return not (len(stripped) > 6 and stripped.endswith(fence))


def _read_text(path: Path) -> tuple[str | None, str | None]:
    """The file's text, or (None, reason) when it must be skipped."""
    try:
        size = path.stat().st_size
        if size == 0:
            return None, "empty file"
        if size > MAX_FILE_BYTES:
            return None, f"file too large ({size} bytes > {MAX_FILE_BYTES})"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if b"\x00" in raw[:8192]:
        return None, "binary file"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return None, "empty file"
    return text, None


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """YAML front matter (tolerating broken YAML) and the remaining body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), text[match.end():]


def _clean_inline(line: str) -> str:
    """Markup removed outside inline code spans (code is kept verbatim)."""
    parts = _INLINE_CODE.split(line)
    return "".join(part if index % 2 else _clean_prose(part) for index, part in enumerate(parts))


def _clean_prose(line: str) -> str:
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _HTML_CELL_END.sub(" | ", line)
    line = _TAG.sub("", line)
    line = _LIQUID_VAR.sub(r"\1", line)
    line = _KRAMDOWN_ATTR.sub("", line)
    return html.unescape(line)


def clean_markdown(body: str) -> str:
    """Markdown/MDX body -> plain Markdown: markup removed, headings and code kept."""
    body = _HTML_COMMENT.sub("", body)
    body = _LIQUID_HIGHLIGHT.sub(r"```\1", body)
    body = _LIQUID_END_HIGHLIGHT.sub("```", body)
    body = _LIQUID_TAG.sub("", body)
    body = _HTML_ROW_END.sub("\n", body)
    out: list[str] = []
    in_code = False
    for line in body.splitlines():
        if toggles_code_block(line):
            in_code = not in_code
            out.append(line.strip())
            continue
        if in_code:
            out.append(line)
            continue
        if _MDX_IMPORT.match(line) or _REF_LINK_DEF.match(line) or _TOC_LINE.match(line):
            continue
        cleaned = _clean_inline(line).rstrip()
        if cleaned.strip(" |") or not line.strip():
            out.append(cleaned)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _HTMLToMarkdown(HTMLParser):
    """Block structure of an HTML page as Markdown-ish lines; scripts, styles and navigation dropped."""

    _SKIP = {"script", "style", "nav", "footer", "head", "noscript", "svg"}
    _BLOCK = {"p", "div", "li", "tr", "br", "pre", "table", "section", "article", "ul", "ol", "dd", "dt", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self._skip_depth = 0
        self._in_title = False
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag == "title":
            self._in_title = True
        if re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "pre":
            self._in_pre = True
            self.parts.append("\n```\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag == "title":
            self._in_title = False
        if re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n")
        elif tag == "pre":
            self._in_pre = False
            self.parts.append("\n```\n")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and self.title is None:
            self.title = " ".join(data.split()) or None
        if self._skip_depth:
            return
        self.parts.append(data if self._in_pre else re.sub(r"[ \t\r\n]+", " ", data))


def html_to_markdown(text: str) -> tuple[str | None, str]:
    parser = _HTMLToMarkdown()
    parser.feed(text)
    parser.close()
    body = "".join(parser.parts)
    lines = [line.strip() if not line.startswith("    ") else line.rstrip() for line in body.splitlines()]
    return parser.title, re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _title_from(front_matter: dict[str, object], path: Path) -> str:
    for key in ("displayTitle", "title"):
        value = front_matter.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return path.stem.replace("-", " ").replace("_", " ")


def load_file(path: Path, source: str) -> tuple[SourceDocument | None, SkippedFile | None]:
    """One file as a SourceDocument, or the reason it was skipped."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return None, SkippedFile(path=str(path), reason=f"unsupported file type {suffix or '(none)'}")
    text, reason = _read_text(path)
    if text is None:
        return None, SkippedFile(path=str(path), reason=reason or "unreadable")
    metadata: dict[str, str] = {}
    if suffix in MARKDOWN_SUFFIXES:
        front_matter, body = split_front_matter(text)
        title = _title_from(front_matter, path)
        body = clean_markdown(body)
        for key in ("product", "category", "kind", "spark_version"):
            value = front_matter.get(key)
            if isinstance(value, (str, int, float)) and str(value).strip():
                metadata[key] = str(value).strip()
    elif suffix in HTML_SUFFIXES:
        html_title, body = html_to_markdown(text)
        title = html_title or _title_from({}, path)
    else:
        title, body = _title_from({}, path), text.strip()
    if not body.strip():
        return None, SkippedFile(path=str(path), reason="no text after removing markup")
    return SourceDocument(key=str(path.resolve()), source=source, text=body, title=title, metadata=metadata), None


def discover_files(root: Path) -> list[Path]:
    """Supported files under a folder (hidden folders and files ignored), in a stable order."""
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
    return found
