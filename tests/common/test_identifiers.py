from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from libs.common.identifiers import (
    USCC,
    IdCardNumber,
    LicenceParts,
    MobilePhone,
    id_card_birth_date,
    id_card_sex,
    licence_warnings,
    parse_licence,
    uscc_warnings,
    validate_id_card,
    validate_mobile,
    validate_uscc,
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _with_id_check(first17: str) -> str:
    """Independent GB 11643 check-character computation, for building test numbers."""
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


# ------------------------------------------------------------------------------------------------ USCC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91110000600037341L", "91110000600037341L"),
        ("12330000470051726F", "12330000470051726F"),
        ("91350100611003829Y", "91350100611003829Y"),
        ("52350000MA34ABCD1Y", "52350000MA34ABCD1Y"),
        ("91110000600037341l", "91110000600037341L"),
        ("  52350000ma34abcd1y\n", "52350000MA34ABCD1Y"),
    ],
)
def test_validate_uscc_accepts_and_normalises(raw: str, expected: str) -> None:
    assert validate_uscc(raw) == expected


@pytest.mark.parametrize(
    "value",
    [
        "91110000600037341M",  # wrong check character
        "91110000600037341K",
        "12330000470051726G",
        "12330000470051726E",
        "91350100611003829X",
        "91350100611003828Y",  # body changed, check character kept
    ],
)
def test_validate_uscc_rejects_wrong_check_character_without_disclosing_it(value: str) -> None:
    with pytest.raises(ValueError, match="校验位错误") as info:
        validate_uscc(value)
    # The message is the same whatever the input, so it cannot reveal the correct check character.
    assert str(info.value) == "统一社会信用代码校验位错误，请核对后重新输入（USCC check character is wrong）"


@pytest.mark.parametrize(
    ("value", "position", "letter"),
    [
        ("91110000600037341I", 18, "I"),
        ("9111000060003734OL", 17, "O"),
        ("S1110000600037341L", 1, "S"),
        ("91110000V00037341L", 9, "V"),
        ("9111000060003734ZL", 17, "Z"),
    ],
)
def test_validate_uscc_rejects_forbidden_letters(value: str, position: int, letter: str) -> None:
    with pytest.raises(ValueError, match=f"第 {position} 位含有不允许的字母 {letter}"):
        validate_uscc(value)


@pytest.mark.parametrize("value", ["91110000-00037341L", "9111000060003734１L", "9111000060003734#L"])
def test_validate_uscc_rejects_other_characters(value: str) -> None:
    with pytest.raises(ValueError, match="非法字符"):
        validate_uscc(value)


@pytest.mark.parametrize("value", ["", "9111000060003734L", "91110000600037341L0", "   "])
def test_validate_uscc_rejects_wrong_length(value: str) -> None:
    with pytest.raises(ValueError, match="应为 18 位"):
        validate_uscc(value)


@pytest.mark.parametrize(
    ("value", "expected_fragments"),
    [
        ("91350100611003829Y", []),
        ("52350000MA34ABCD1Y", []),
        ("Y1350000MA2Y12345E", []),
        ("91110000600037341L", ["不是 35"]),
        ("91440300MA5DXXXXXG", ["不是 35"]),
        ("12330000470051726F", ["不是 35"]),
        ("B1350100611003829W", ["登记管理部门代码 B"]),
        (" 91350100611003829y ", []),
    ],
)
def test_uscc_warnings(value: str, expected_fragments: list[str]) -> None:
    validate_uscc(value)  # all samples are valid codes: warnings are about otherwise acceptable data
    warnings = uscc_warnings(value)
    assert len(warnings) == len(expected_fragments)
    for fragment, warning in zip(expected_fragments, warnings, strict=True):
        assert fragment in warning


@pytest.mark.parametrize("value", ["", "Z", "ZZ", "not a code at all"])
def test_uscc_warnings_never_raises(value: str) -> None:
    assert isinstance(uscc_warnings(value), list)


# -------------------------------------------------------------------------------------------- ID cards


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("360426199101010071", "360426199101010071"),
        (" 350102199001011246 ", "350102199001011246"),
        ("350102200002291230", "350102200002291230"),  # 29 Feb in a leap year
    ],
)
def test_validate_id_card_accepts_and_normalises(raw: str, expected: str) -> None:
    assert validate_id_card(raw) == expected


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",
        "110105194912310020",
        "360426199101010072",
        "36042619910101007X",
        "350102199001011247",
    ],
)
def test_validate_id_card_rejects_wrong_check_character(value: str) -> None:
    with pytest.raises(ValueError, match="校验位错误") as info:
        validate_id_card(value)
    assert value not in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("35010219490230123X", "不是有效的出生日期"),  # 1949-02-30
        ("350102190002291234", "不是有效的出生日期"),  # 1900 is not a leap year
        (_with_id_check("35010219901301123"), "不是有效的出生日期"),  # month 13
        (_with_id_check("35010219900100123"), "不是有效的出生日期"),  # day 0
        ("35010220990101123X", "晚于今天"),
        ("350102187912311233", "早于 1880"),
    ],
)
def test_validate_id_card_rejects_bad_birth_dates(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_id_card(value)


def test_validate_id_card_birth_date_today_is_accepted_tomorrow_is_not() -> None:
    number = _with_id_check("35010220240501123")
    assert validate_id_card(number, today=date(2024, 5, 1)) == number
    with pytest.raises(ValueError, match="晚于今天"):
        validate_id_card(number, today=date(2024, 4, 30))


def test_validate_id_card_accepts_1880() -> None:
    number = _with_id_check("35010218800101123")
    assert validate_id_card(number) == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "应为 18 位"),
        ("35010219900101124", "应为 18 位"),
        ("3501021990010112460", "应为 18 位"),
        ("350102199001011", "应为 18 位"),  # first-generation 15-digit numbers are no longer valid
        ("35010219900101A246", "第 15 位应为数字"),
        ("３５0102199001011246", "第 1 位应为数字"),  # full-width digits are not ASCII digits
        ("35010219900101124Y", "第 18 位应为数字或 X"),
    ],
)
def test_validate_id_card_rejects_bad_shape(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_id_card(value)


def test_validate_id_card_does_not_check_address_code() -> None:
    # 000000 is not any real division code; the address code is deliberately not looked up.
    number = _with_id_check("00000019900101123")
    assert validate_id_card(number) == number


@pytest.mark.parametrize(
    ("value", "birth", "sex"),
    [
        ("11010519491231002X", date(1949, 12, 31), "female"),
        ("11010519491231002x", date(1949, 12, 31), "female"),
        ("360426199101010071", date(1991, 1, 1), "male"),
        ("350102199001011246", date(1990, 1, 1), "female"),
        ("350102199001011254", date(1990, 1, 1), "male"),
        ("350102200002291230", date(2000, 2, 29), "male"),
    ],
)
def test_id_card_birth_date_and_sex(value: str, birth: date, sex: str) -> None:
    assert id_card_birth_date(value) == birth
    assert id_card_sex(value) == sex


def test_id_card_birth_date_and_sex_validate_first() -> None:
    with pytest.raises(ValueError, match="校验位错误"):
        id_card_birth_date("110105194912310021")
    with pytest.raises(ValueError, match="不是有效的出生日期"):
        id_card_sex("35010219490230123X")


# ------------------------------------------------------------------------------------------- licences

_GOOD_LICENCE = "PDY12345X35010211A1001"


def test_parse_licence() -> None:
    assert parse_licence(_GOOD_LICENCE) == LicenceParts(
        organisation_code="PDY12345X",
        region_code="350102",
        ownership_code="11",
        kind_code="A100",
        management_class="1",
    )
    parts = parse_licence(" pdy12345x 350102 11 a100 2 ")
    assert parts is not None
    assert parts.kind_code == "A100"
    assert parts.management_class == "2"
    assert parts.management_class_name == "营利性"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12345678-9",  # legacy short number
        "PDY12345X35010211A100",  # 21 characters
        "PDY12345X35010211A10013",  # 23 characters
        "PDY12345X35010211A1003",  # management class 3
        "PDY12345X3501021AA1001",  # ownership not digits
        "PDY12345X35010211AA001",  # kind code not letter + 3 digits
        "PDY-2345X35010211A1001",
    ],
)
def test_parse_licence_returns_none_for_other_shapes(value: str) -> None:
    assert parse_licence(value) is None


def test_licence_parts_is_frozen() -> None:
    parts = parse_licence(_GOOD_LICENCE)
    assert parts is not None
    with pytest.raises(AttributeError):
        parts.kind_code = "B100"  # type: ignore[misc]


@pytest.mark.parametrize("kind_code", [None, "A100", "a100", " A100 "])
def test_licence_warnings_none_for_good_licence(kind_code: str | None) -> None:
    assert licence_warnings(_GOOD_LICENCE, kind_code) == []


def test_licence_warnings_kind_code_mismatch() -> None:
    warnings = licence_warnings(_GOOD_LICENCE, "B100")
    assert len(warnings) == 1
    assert "A100" in warnings[0]
    assert "B100" in warnings[0]
    assert "不一致" in warnings[0]


@pytest.mark.parametrize(
    ("licence_no", "kind_code", "fragments"),
    [
        ("12345678-9", "A100", ["为 10 位，现行格式应为 22 位，可能是旧版登记号"]),
        ("PDY12345X35010211A100", None, ["为 21 位"]),
        ("", "A100", ["为空"]),
        ("   ", None, ["为空"]),
        ("PDY12345X35010211A1003", "A100", ["第 22 位经营性质"]),
        ("PDY12345X3501021AA1001", "A100", ["第 16–17 位所有制"]),
        ("PDY12345X350A0211A1001", None, ["第 10–15 位行政区划"]),
        ("PDY-2345X35010211A1001", None, ["第 1–9 位组织机构代码"]),
        ("PDY12345X350102111A001", "A100", ["第 18–21 位机构类别"]),
        ("PDY12345X3501021AA1003", None, ["第 16–17 位所有制", "第 22 位经营性质"]),
        (_GOOD_LICENCE, "A10", ["机构类别代码应为"]),
        ("12345678-9", "100A", ["机构类别代码应为", "为 10 位"]),
    ],
)
def test_licence_warnings_shape_problems(
    licence_no: str, kind_code: str | None, fragments: list[str]
) -> None:
    warnings = licence_warnings(licence_no, kind_code)
    assert len(warnings) == len(fragments)
    for fragment, warning in zip(fragments, warnings, strict=True):
        assert fragment in warning


# --------------------------------------------------------------------------------------------- mobiles


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13812345678", "13812345678"), ("19912345678", "19912345678"), (" 15012345678\n", "15012345678")],
)
def test_validate_mobile_accepts(raw: str, expected: str) -> None:
    assert validate_mobile(raw) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12812345678",
        "10012345678",
        "1381234567",
        "138123456789",
        "23812345678",
        "+8613812345678",
        "138-1234-5678",
        "１３８１２３４５６７８",  # full-width digits
        "1381234567a",
    ],
)
def test_validate_mobile_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="手机号码格式不正确"):
        validate_mobile(value)


# ------------------------------------------------------------------------------------ pydantic aliases


class _Person(BaseModel):
    uscc: USCC
    id_card: IdCardNumber
    mobile: MobilePhone


def test_annotated_types_validate_and_normalise() -> None:
    person = _Person(uscc=" 91350100611003829y", id_card="11010519491231002x", mobile=" 13812345678 ")
    assert person.uscc == "91350100611003829Y"
    assert person.id_card == "11010519491231002X"
    assert person.mobile == "13812345678"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("uscc", "91350100611003829X", "统一社会信用代码校验位错误"),
        ("id_card", "35010219490230123X", "不是有效的出生日期"),
        ("mobile", "12812345678", "手机号码格式不正确"),
    ],
)
def test_annotated_types_reject(field: str, value: str, message: str) -> None:
    data = {"uscc": "91350100611003829Y", "id_card": "11010519491231002X", "mobile": "13812345678"}
    data[field] = value
    with pytest.raises(ValidationError) as info:
        _Person.model_validate(data)
    errors = info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == (field,)
    assert errors[0]["type"] == "value_error"
    assert message in errors[0]["msg"]


# The weights and symbols as identifiers.md states them (not taken from the module under test).
_SPEC_USCC_SYMBOLS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SPEC_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _spec_check_value(first17: str) -> int:
    total = sum(_SPEC_USCC_SYMBOLS.index(ch) * w for ch, w in zip(first17, _SPEC_USCC_WEIGHTS, strict=True))
    return (31 - total % 31) % 31


@pytest.mark.parametrize("value", ["91350200MA2Y4K3300", "91350200MA2Y4K3010", "91350200MA2Y4K3W20"])
def test_validate_uscc_accepts_a_check_character_of_zero(value: str) -> None:
    """Σ value·weight ≡ 0 (mod 31) gives check value (31 − 0) mod 31 = 0, the symbol ``0``."""
    assert _spec_check_value(value[:17]) == 0
    assert validate_uscc(value) == value


@pytest.mark.parametrize("check", ["1", "Y", "A"])
def test_validate_uscc_rejects_another_character_where_the_check_is_zero(check: str) -> None:
    with pytest.raises(ValueError, match="校验位错误"):
        validate_uscc("91350200MA2Y4K330" + check)


@pytest.mark.parametrize("value", ["91110000600037341L", "12330000470051726F", "91350200MA2Y4K3300"])
def test_validate_uscc_refuses_every_other_check_character(value: str) -> None:
    """Exactly one of the 31 symbols is the right check character."""
    accepted = []
    for ch in _SPEC_USCC_SYMBOLS:
        try:
            validate_uscc(value[:17] + ch)
        except ValueError:
            continue
        accepted.append(ch)
    assert accepted == [value[17]]


@pytest.fixture
def host_clock_a_day_behind_china() -> Iterator[None]:
    """The host's local time zone set to UTC−16, exactly 24 hours behind China (UTC+8): the host's
    calendar date is then always the day before China's, whatever the hour."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "HOST+16"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def _china_today() -> date:
    return (datetime.now(UTC) + timedelta(hours=8)).date()


@pytest.mark.usefixtures("host_clock_a_day_behind_china")
def test_default_today_is_the_date_in_china_not_on_the_host() -> None:
    """A birth date of today in China is valid whatever the server's own time zone; tomorrow is not."""
    day = _china_today()
    born_today = _with_id_check(f"350102{day:%Y%m%d}123")
    assert validate_id_card(born_today) == born_today
    tomorrow = day + timedelta(days=1)
    born_tomorrow = _with_id_check(f"350102{tomorrow:%Y%m%d}123")
    with pytest.raises(ValueError, match="晚于今天"):
        validate_id_card(born_tomorrow)
    if _china_today() != day:  # midnight in China passed during the test
        pytest.skip("the date in China changed during the test")


def test_id_number_check_char_of_the_standards_example() -> None:
    # GB 11643-1999's worked example: 11010519491231002X
    from libs.common.identifiers import id_number_check_char

    assert id_number_check_char("11010519491231002") == "X"
    assert "35020319400101001" + id_number_check_char("35020319400101001") == _with_id_check(
        "35020319400101001"
    )
