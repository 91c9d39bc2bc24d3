"""The compiled control-character classes of libs/common/text.py hold exactly the characters the rule names
(Unicode categories Cc and Cs, U+FFFE, U+FFFF; multi-line text keeps TAB and LF), checked over every code
point against unicodedata — the definition, not the regex under test."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from pydantic import TypeAdapter, ValidationError

from libs.common.text import MultiLine, SingleLine


def _forbidden_by_definition(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in "\ufffe\uffff"


def test_single_line_refuses_exactly_the_defined_set() -> None:
    single = TypeAdapter(SingleLine)
    wrong: list[str] = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        text = f"a{char}b"
        positions: list[object] = []
        try:
            single.validate_python(text)
        except ValidationError as error:
            positions = [e.get("ctx", {}).get("position") for e in error.errors()]
        expected = [2] if _forbidden_by_definition(char) else []
        if positions != expected:
            wrong.append(f"U+{code:04X}")
    assert wrong == []


@pytest.mark.parametrize("char", ["\t", "\n"])
def test_multi_line_keeps_tab_and_lf(char: str) -> None:
    assert TypeAdapter(MultiLine).validate_python(f"a{char}b") == f"a{char}b"


def test_multi_line_refuses_the_rest_of_the_set() -> None:
    multi = TypeAdapter(MultiLine)
    for code in [*range(0x20), *range(0x7F, 0xA0), 0xD800, 0xDFFF, 0xFFFE, 0xFFFF]:
        char = chr(code)
        if char in "\t\n\r":
            continue
        with pytest.raises(ValidationError):
            multi.validate_python(f"x{char}")
    # a lone CR is refused; CR LF becomes LF
    with pytest.raises(ValidationError):
        multi.validate_python("a\rb")
    assert multi.validate_python("a\r\nb") == "a\nb"
