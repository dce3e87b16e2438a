"""Which files a request may make the server read: only real paths inside the configured allowed directories.

A path is refused when it carries a URL scheme, a `..` segment, a NUL byte, or when its
real location (symlinks resolved) is outside every allowed directory. Relative paths
are taken relative to the first allowed directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from copilot.api.problems import Problem

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def allowed_path(text: str, allowed_dirs: list[Path], what: str = "path") -> Path:
    """The real path of `text` when it lies inside an allowed directory and exists; a 403/404 problem otherwise."""
    if not text or not text.strip():
        raise Problem(422, f"{what} is empty")
    if "\x00" in text:
        raise Problem(403, f"{what} refused: it contains a NUL byte")
    if _SCHEME.match(text) or "://" in text:
        raise Problem(403, f"{what} refused: URLs are not accepted, only paths inside the allowed directories")
    if ".." in PurePosixPath(text).parts or ".." in text.replace("\\", "/").split("/"):
        raise Problem(403, f"{what} refused: '..' segments are not allowed")
    if not allowed_dirs:
        raise Problem(403, f"{what} refused: the server has no allowed directories (set COPILOT_API__ALLOWED_DIRS)")
    roots = [Path(os.path.realpath(d.expanduser())) for d in allowed_dirs]
    candidate = Path(text).expanduser() if text.startswith(("/", "~")) else roots[0] / text
    real = Path(os.path.realpath(candidate))
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise Problem(403, f"{what} refused: it is outside the allowed directories")
    if not real.exists():
        raise Problem(404, f"{what} not found inside the allowed directories")
    return real
