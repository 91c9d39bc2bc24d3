"""Reading an uploaded CSV file row by row, with every malformed row reported by its line number.

:mod:`csv` raises a bare :class:`csv.Error` for what the sender got wrong — a field larger than the
module's field size limit (128 KB), a quote left open — which would otherwise escape as a 500. Here it
becomes a :class:`CsvRowError` that knows the line, for the importer to answer a 422 naming the row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Final

CSV_ROW_ERROR_CODE: Final = "csv_row_unreadable"


class CsvRowError(ValueError):
    """A row of the file that the CSV reader refused; ``line`` counts physical lines from 1."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"CSV 第 {line} 行无法读取（单元格过大或引号不匹配）（{reason}）")
        self.line = line
        self.reason = reason


def csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of ``text`` as :func:`csv.reader` reads them; a bad row raises :class:`CsvRowError`."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvRowError(max(reader.line_num, 1), str(exc)) from None
        yield row
