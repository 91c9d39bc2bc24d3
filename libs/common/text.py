"""Free text a client may send: one line (names, addresses, codes) or several (notes, findings).

Control characters have no business in either. Stored, they break every consumer downstream — an XLSX
export refuses them (XML 1.0 forbids most C0 characters), a CSV opened in Excel mis-splits rows, a
city platform's parser chokes. So every free-text field of every request schema (and of every bulk
or imported record, which is validated by the same schema) is one of the two types here, and a value
carrying a control character is refused with a 422 naming the field (error code ``control_character``).

- :data:`SingleLine` refuses every character of Unicode category Cc (C0, DEL, C1), lone surrogates
  and the non-characters U+FFFE/U+FFFF.
- :data:`MultiLine` also lets through line feed, carriage return + line feed (stored as a line feed)
  and tab.

Length and other constraints stay at the field (``name: SingleLine = Field(max_length=200)``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Final

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CONTROL_CHARACTER_CODE: Final = "control_character"


def is_forbidden_character(char: str) -> bool:
    """A character no stored text may hold: control (Cc), surrogate (Cs) or U+FFFE/U+FFFF."""
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"


# The same set as is_forbidden_character, as one compiled class: Cc is U+0000–U+001F and U+007F–U+009F,
# Cs the surrogates (reachable through surrogateescape). The regex scans in C — the per-character Python
# loop it replaces was a visible share of a 1,000-record bulk batch's validation (issue 16).
_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# the same without TAB (U+0009) and LF (U+000A), which multi-line text keeps
_FORBIDDEN_MULTILINE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _refuse(value: str, index: int) -> PydanticCustomError:
    return PydanticCustomError(
        CONTROL_CHARACTER_CODE,
        "不得包含控制字符（第 {position} 个字符 {character}）(control characters are not allowed)",
        {"position": index + 1, "character": f"U+{ord(value[index]):04X}"},
    )


def single_line(value: str) -> str:
    """The value unchanged, or a validation error when it holds any control character."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise _refuse(value, found.start())
    return value


def multi_line(value: str) -> str:
    """The value with CR LF made LF, or a validation error for any other control character."""
    value = value.replace("\r\n", "\n")
    found = _FORBIDDEN_MULTILINE.search(value)
    if found is not None:
        raise _refuse(value, found.start())
    return value


SingleLine = Annotated[str, AfterValidator(single_line)]
MultiLine = Annotated[str, AfterValidator(multi_line)]
