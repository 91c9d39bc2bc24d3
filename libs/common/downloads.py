"""A file the API hands out as a download: the body with its media type, and a ``Content-Disposition``
that names the file in UTF-8 (RFC 6266/5987), so that Chinese file names survive every browser."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response


def attachment(content: bytes, filename: str, media_type: str) -> Response:
    """``content`` as a download named ``filename``."""
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
