"""The image's HEALTHCHECK: exit 0 when ``GET http://127.0.0.1:$PORT/healthz`` answers 200, else 1.

Standard library only (the slim image has no curl); tests/deploy/test_startup_commands.py runs it
against a service started by ``deploy/docker/entrypoint.sh serve``.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "3"))) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError, ValueError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
