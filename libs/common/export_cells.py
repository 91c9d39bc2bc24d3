"""What every CSV and XLSX export writes into a cell: any stored value, made safe to open.

- Characters XML 1.0 forbids (control characters other than tab, line feed and carriage return; lone
  surrogates; U+FFFE/U+FFFF) are dropped, so a value stored before the input types refused them still
  exports instead of failing the whole file.
- A text beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with a single
  quote, so that a spreadsheet program shows it as text and never runs it as a formula (CSV/formula
  injection, OWASP).

Numbers, dates and booleans pass through unchanged; only text is touched.
"""

from __future__ import annotations

from typing import Any, Final

from libs.common.text import is_forbidden_character

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
_XML_ALLOWED_CONTROLS: Final = frozenset("\t\n\r")


def printable_text(value: str) -> str:
    """``value`` without the characters an XML 1.0 document (an XLSX sheet) cannot hold."""
    if not any(is_forbidden_character(c) and c not in _XML_ALLOWED_CONTROLS for c in value):
        return value
    return "".join(c for c in value if c in _XML_ALLOWED_CONTROLS or not is_forbidden_character(c))


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a CSV or XLSX cell (text cleaned and formula-neutralised)."""
    if not isinstance(value, str):
        return value
    text = printable_text(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def unquote_cell(text: str) -> str:
    """A cell read back from an export: the quote :func:`safe_cell` put before a formula sign removed."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text
