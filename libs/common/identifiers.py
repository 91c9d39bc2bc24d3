"""Validators for Chinese identifiers used across the platform.

Every ``validate_*`` function is pure and synchronous: it returns the normalised value or raises
:class:`ValueError` with a Chinese message, so it can be used directly as a pydantic ``AfterValidator``
(see the ``Annotated`` aliases at the bottom). The ``*_warnings`` helpers never raise; they return
human-readable Chinese warnings for data that is acceptable but suspicious.

Error messages never echo the submitted value (it may be personal data that ends up in logs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Final, Literal

from pydantic import AfterValidator

from libs.common.clock import today_in_china

__all__ = [
    "USCC",
    "IdCardNumber",
    "LicenceParts",
    "ManagementClass",
    "MobilePhone",
    "id_card_birth_date",
    "id_number_check_char",
    "id_card_sex",
    "licence_warnings",
    "parse_licence",
    "uscc_check_char",
    "uscc_warnings",
    "validate_id_card",
    "validate_mobile",
    "validate_uscc",
]

_ASCII_DIGITS: Final = frozenset("0123456789")

# --------------------------------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)
# --------------------------------------------------------------------------------------------------

_USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final[dict[str, int]] = {ch: i for i, ch in enumerate(_USCC_CHARSET)}
_USCC_WEIGHTS: Final[tuple[int, ...]] = tuple(pow(3, i, 31) for i in range(17))
_USCC_FORBIDDEN: Final = frozenset("IOSVZ")
_FUJIAN_PROVINCE_CODE: Final = "35"

# Position 1: 登记管理部门代码 (GB 32100-2015, table 1).
_USCC_DEPARTMENTS: Final[dict[str, str]] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}


def _normalise_uscc(value: str) -> str:
    return value.strip().upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a 统一社会信用代码."""
    total = sum(_USCC_VALUES[ch] * weight for ch, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate a 统一社会信用代码 and return it stripped and upper-cased.

    Raises ValueError for a wrong length, an illegal character or a wrong check character. The
    expected check character is deliberately not disclosed.
    """
    code = _normalise_uscc(value)
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为 18 位，实际为 {len(code)} 位（USCC must be 18 characters）")
    for position, ch in enumerate(code, start=1):
        if ch not in _USCC_VALUES:
            if ch in _USCC_FORBIDDEN:
                raise ValueError(
                    f"统一社会信用代码第 {position} 位含有不允许的字母 {ch}，代码中不使用 I、O、S、V、Z"
                    "（illegal letter in USCC）"
                )
            raise ValueError(
                f"统一社会信用代码第 {position} 位含有非法字符，只允许数字和大写字母"
                "（不含 I、O、S、V、Z）（illegal character in USCC）"
            )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValueError("统一社会信用代码校验位错误，请核对后重新输入（USCC check character is wrong）")
    return code


def uscc_warnings(value: str) -> list[str]:
    """Return non-blocking warnings about a USCC; never raises.

    Intended to be called after :func:`validate_uscc`. Warns when the registration is not in Fujian
    (positions 3–4 are not ``35``) and when the position-1 registration department is not one listed
    in GB 32100-2015. It does not repeat the checks made by ``validate_uscc``.
    """
    code = _normalise_uscc(value)
    warnings: list[str] = []
    if code and code[0] not in _USCC_DEPARTMENTS:
        warnings.append(
            f"统一社会信用代码第 1 位登记管理部门代码 {code[0]} 不在 GB 32100 已知代码之列，请核实"
            "（unknown registration department）"
        )
    if len(code) >= 4 and code[2:4] != _FUJIAN_PROVINCE_CODE:
        warnings.append(
            "统一社会信用代码第 3–4 位行政区划码不是 35，该机构可能不是在福建省登记的，请核实"
            "（not registered in Fujian）"
        )
    return warnings


# --------------------------------------------------------------------------------------------------
# 公民身份号码 (GB 11643-1999)
# --------------------------------------------------------------------------------------------------

_ID_WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS: Final = "10X98765432"
_ID_EARLIEST_BIRTH: Final = date(1880, 1, 1)


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a 居民身份证号码."""
    total = sum(int(ch) * weight for ch, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def validate_id_card(value: str, *, today: date | None = None) -> str:
    """Validate an 18-digit 居民身份证号码 and return it stripped, with a lower-case ``x`` upper-cased.

    Checks the shape, the GB 11643 check character and that positions 7–14 are a real birth date
    between 1880-01-01 and ``today`` (by default: today in China). The address code (positions 1–6) is
    not checked against any list because retired codes remain valid on issued cards.
    """
    number = value.strip().upper()
    if len(number) != 18:
        raise ValueError(
            f"居民身份证号码应为 18 位，实际为 {len(number)} 位（ID card number must be 18 characters）"
        )
    for position, ch in enumerate(number[:17], start=1):
        if ch not in _ASCII_DIGITS:
            raise ValueError(f"居民身份证号码第 {position} 位应为数字（ID card number: digit expected）")
    if number[17] not in _ASCII_DIGITS and number[17] != "X":
        raise ValueError("居民身份证号码第 18 位应为数字或 X（ID card check character must be 0-9 or X）")

    if id_number_check_char(number[:17]) != number[17]:
        raise ValueError("居民身份证号码校验位错误，请核对后重新输入（ID card check character is wrong）")

    birth = _parse_birth_date(number)
    if birth < _ID_EARLIEST_BIRTH:
        raise ValueError("居民身份证号码中的出生日期早于 1880 年（birth date before 1880）")
    if birth > (today if today is not None else today_in_china()):
        raise ValueError("居民身份证号码中的出生日期晚于今天（birth date is in the future）")
    return number


def _parse_birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValueError(
            "居民身份证号码第 7–14 位不是有效的出生日期（birth date is not a real date）"
        ) from None


def id_card_birth_date(value: str) -> date:
    """Validate an ID card number and return the birth date encoded in positions 7–14."""
    return _parse_birth_date(validate_id_card(value))


def id_card_sex(value: str) -> Literal["male", "female"]:
    """Validate an ID card number and return the sex encoded in position 17 (odd = male)."""
    number = validate_id_card(value)
    return "male" if int(number[16]) % 2 == 1 else "female"


# --------------------------------------------------------------------------------------------------
# 医疗机构执业许可证登记号
# --------------------------------------------------------------------------------------------------

_LICENCE_LENGTH: Final = 22
_LICENCE_RE: Final = re.compile(
    r"(?P<organisation_code>[0-9A-Z]{9})"
    r"(?P<region_code>[0-9]{6})"
    r"(?P<ownership_code>[0-9]{2})"
    r"(?P<kind_code>[A-Z][0-9]{3})"
    r"(?P<management_class>[129])"
)
_KIND_CODE_RE: Final = re.compile(r"[A-Z][0-9]{3}")
ManagementClass = Literal["1", "2", "9"]
_MANAGEMENT_CLASSES: Final[dict[str, ManagementClass]] = {"1": "1", "2": "2", "9": "9"}
_MANAGEMENT_CLASS_NAMES: Final[dict[ManagementClass, str]] = {"1": "非营利性", "2": "营利性", "9": "其他"}


@dataclass(frozen=True, slots=True)
class LicenceParts:
    """The five segments of a 22-character 医疗机构执业许可证登记号."""

    organisation_code: str
    """9 characters: 组织机构代码 (digits / upper-case letters)."""
    region_code: str
    """6 digits: 行政区划代码."""
    ownership_code: str
    """2 digits: 所有制形式代码."""
    kind_code: str
    """4 characters: WS 218 医疗卫生机构类别代码, a letter and three digits, e.g. ``A100``."""
    management_class: ManagementClass
    """1 digit: 经营性质 — 1 非营利性, 2 营利性, 9 其他."""

    @property
    def management_class_name(self) -> str:
        return _MANAGEMENT_CLASS_NAMES[self.management_class]


def _normalise_licence(no: str) -> str:
    return "".join(no.split()).upper()


def parse_licence(no: str) -> LicenceParts | None:
    """Split a current-format licence number into its parts; ``None`` when it does not have that shape.

    Whitespace is removed and letters are upper-cased first. Never raises.
    """
    match = _LICENCE_RE.fullmatch(_normalise_licence(no))
    if match is None:
        return None
    return LicenceParts(
        organisation_code=match["organisation_code"],
        region_code=match["region_code"],
        ownership_code=match["ownership_code"],
        kind_code=match["kind_code"],
        management_class=_MANAGEMENT_CLASSES[match["management_class"]],
    )


def licence_warnings(licence_no: str, kind_code: str | None) -> list[str]:
    """Return Chinese warnings about a 医疗机构执业许可证登记号; never raises.

    Shape problems are warnings, not errors, because older institutions still carry shorter legacy
    numbers. When ``kind_code`` (the institution's declared WS 218 category) is given and the licence
    parses, a mismatch with the licence's own kind code is also reported.
    """
    no = _normalise_licence(licence_no)
    warnings: list[str] = []
    declared = kind_code.strip().upper() if kind_code is not None else None
    if declared is not None and _KIND_CODE_RE.fullmatch(declared) is None:
        declared = None  # a malformed declaration is reported once, not also as a mismatch
        warnings.append(
            "机构类别代码应为 1 个大写字母加 3 位数字（如 A100）（kind code should look like A100）"
        )

    if not no:
        warnings.append("医疗机构执业许可证登记号为空（licence number is empty）")
        return warnings
    if len(no) != _LICENCE_LENGTH:
        warnings.append(
            f"医疗机构执业许可证登记号为 {len(no)} 位，现行格式应为 22 位，可能是旧版登记号，请核实"
            "（licence number is not 22 characters; possibly a legacy number）"
        )
        return warnings

    parts = parse_licence(no)
    if parts is None:
        warnings.extend(_licence_segment_warnings(no))
        return warnings
    if declared is not None and parts.kind_code != declared:
        warnings.append(
            f"登记号中的机构类别代码 {parts.kind_code} 与填报的机构类别代码 {declared} 不一致，请核实"
            "（kind code in licence does not match the declared kind code）"
        )
    return warnings


def _licence_segment_warnings(no: str) -> list[str]:
    """Explain which segment of a 22-character licence number has the wrong shape."""
    warnings: list[str] = []
    if re.fullmatch(r"[0-9A-Z]{9}", no[0:9]) is None:
        warnings.append("登记号第 1–9 位组织机构代码应为数字或大写字母（organisation code segment）")
    if re.fullmatch(r"[0-9]{6}", no[9:15]) is None:
        warnings.append("登记号第 10–15 位行政区划代码应为 6 位数字（region code segment）")
    if re.fullmatch(r"[0-9]{2}", no[15:17]) is None:
        warnings.append("登记号第 16–17 位所有制形式代码应为 2 位数字（ownership code segment）")
    if _KIND_CODE_RE.fullmatch(no[17:21]) is None:
        warnings.append(
            "登记号第 18–21 位机构类别代码应为 1 个字母加 3 位数字（如 A100）（kind code segment）"
        )
    if no[21] not in _MANAGEMENT_CLASSES:
        warnings.append("登记号第 22 位经营性质代码应为 1、2 或 9（management class segment）")
    return warnings


# --------------------------------------------------------------------------------------------------
# 手机号码
# --------------------------------------------------------------------------------------------------

# [0-9] rather than \d: in Python ``\d`` also matches full-width and other Unicode digits.
_MOBILE_RE: Final = re.compile(r"1[3-9][0-9]{9}")


def validate_mobile(value: str) -> str:
    """Validate a mainland mobile number (11 digits, ``1[3-9]…``) and return it stripped."""
    number = value.strip()
    if _MOBILE_RE.fullmatch(number) is None:
        raise ValueError("手机号码格式不正确，应为以 13–19 开头的 11 位数字（invalid mobile number）")
    return number


# --------------------------------------------------------------------------------------------------
# pydantic types
# --------------------------------------------------------------------------------------------------

USCC = Annotated[str, AfterValidator(validate_uscc)]
IdCardNumber = Annotated[str, AfterValidator(validate_id_card)]
MobilePhone = Annotated[str, AfterValidator(validate_mobile)]
