"""The web console's build (``web/dist``) as the gateway serves it.

The directory is read once, when the gateway starts (in a worker thread): every regular file under it
becomes an entry of an index keyed by its URL path, and only those are ever answered — a request path
is looked up, never joined to a directory, so nothing outside the build (``..``, symlinks leading out,
encoded separators) can be reached. A rebuild is noticed by ``index.html``'s modification time (checked
when a page or a file that has gone is asked for) and indexed again.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}


def media_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return _MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class ConsoleFile:
    path: Path
    media_type: str


@dataclass(frozen=True, slots=True)
class ConsoleBuild:
    root: Path
    index_html: bytes
    index_mtime_ns: int
    files: dict[str, ConsoleFile]  # URL path ("/assets/app-abc123.js") → file

    def rebuilt(self) -> bool:
        """Whether ``index.html`` changed (or went) since this index was made. Blocking: a stat."""
        try:
            return (self.root / "index.html").stat().st_mtime_ns != self.index_mtime_ns
        except OSError:
            return True


def load(directory: Path) -> ConsoleBuild | None:
    """Index a build; None when there is none (no directory, or no ``index.html`` in it). Blocking: call
    it in a worker thread."""
    root = directory.resolve()
    index = root / "index.html"
    if not root.is_dir() or not index.is_file():
        return None
    files: dict[str, ConsoleFile] = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for filename in filenames:
            path = (Path(dirpath) / filename).resolve()
            if not path.is_file() or not path.is_relative_to(root):
                continue  # a symlink leading out of the build, a socket, …
            url = "/" + path.relative_to(root).as_posix()
            files[url] = ConsoleFile(path=path, media_type=media_type(filename))
    mtime_ns = index.stat().st_mtime_ns
    return ConsoleBuild(root=root, index_html=index.read_bytes(), index_mtime_ns=mtime_ns, files=files)
