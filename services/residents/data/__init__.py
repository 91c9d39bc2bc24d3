"""The residents' reference tables, shipped as CSV files beside this module (see README.md).

Each file opens with ``#`` lines naming its source and confidence; :func:`read_table` skips them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def read_table(file_name: str) -> list[dict[str, str]]:
    """The rows of ``file_name`` (a file of this folder) keyed by its header, comment lines left out."""
    text = (DATA_DIR / file_name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))
