"""What each 示范 criterion shows (the README: "every criterion passed/failed, value, threshold, margin")
and that the institution's own facts reach each criterion — written from rules.md 示范 (medical and
elderly-care sides 5+ years each, occupancy >= 65 % in each of the last two years, 失能/失智 > 65 %,
satisfaction >= 95 % and no major incident shown as soft criteria)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from services.registry.demonstration.criteria import (
    InstitutionFacts,
    YearFigures,
    disabled_share,
    institution_criteria,
    no_major_incident,
    occupancy,
    operating_years,
    percent,
    satisfaction,
)
from tests.registry.demonstration.test_criteria import RULES, facts, year


def _shown(result: object) -> tuple[object, ...]:
    return tuple(getattr(result, f) for f in ("threshold", "comparison", "unit", "margin_unit"))


def test_operating_years_is_hard_five_years_or_more_with_a_margin_in_days() -> None:
    known = operating_years("medical_operating_years", "医疗服务开展年限", date(2020, 3, 31), RULES)
    assert known.hard is True
    assert _shown(known) == ("5", ">=", "年", "天")
    assert (known.value, known.margin) == ("6", "365")
    unknown = operating_years("medical_operating_years", "医疗服务开展年限", None, RULES)
    assert (unknown.hard, unknown.passed, unknown.value) == (True, False, None)
    assert (unknown.threshold, unknown.comparison, unknown.unit) == ("5", ">=", "年")
    assert "没有医疗服务开展时间" in unknown.detail


def test_occupancy_shows_65_percent_or_more_and_the_lowest_year() -> None:
    result = occupancy(facts(year(2024, Fraction(70)), year(2025, Fraction(6601, 100))), RULES)
    assert result.passed is True
    assert _shown(result) == ("65", ">=", "%", "个百分点")
    assert (result.value, result.margin) == ("66.01", "1.01")
    assert [(y.year, y.value, y.margin, y.passed) for y in result.years or []] == [
        (2024, "70.00", "5.00", True),
        (2025, "66.01", "1.01", True),
    ]
    assert "2024" in result.detail
    assert "2025" in result.detail


def test_each_year_at_exactly_65_percent_is_shown_as_passed() -> None:
    result = occupancy(facts(year(2024, Fraction(65)), year(2025, Fraction(65))), RULES)
    assert [(y.year, y.passed, y.margin) for y in result.years or []] == [
        (2024, True, "0.00"),
        (2025, True, "0.00"),
    ]


def test_a_missing_first_year_is_shown_failed_and_the_second_year_is_still_judged() -> None:
    result = occupancy(facts(year(2025, Fraction(60))), RULES)
    assert result.passed is False
    assert [(y.year, y.value, y.passed) for y in result.years or []] == [
        (2024, None, False),
        (2025, "60.00", False),
    ]
    assert "2024" in result.detail
    assert "差 5.00 个百分点" in result.detail
    assert (result.value, result.margin) == ("60.00", "-5.00")


def test_no_occupancy_at_all_shows_no_value() -> None:
    result = occupancy(facts(), RULES)
    assert (result.passed, result.value, result.margin) == (False, None, None)
    assert [y.passed for y in result.years or []] == [False, False]


def test_disabled_share_shows_more_than_65_percent() -> None:
    result = disabled_share(facts(year(2025, Fraction(80), residents=200, share=150)), RULES)
    assert result.passed is True
    assert _shown(result) == ("65", ">", "%", "个百分点")
    assert (result.value, result.margin) == ("75.00", "10.00")
    assert "高于" in result.detail
    failing = disabled_share(facts(year(2025, Fraction(80), residents=200, share=100)), RULES)
    assert failing.passed is False
    assert "未超过" in failing.detail


def test_disabled_share_without_a_count_of_disabled_residents_fails_without_a_value() -> None:
    unknown = YearFigures(
        year=2025, occupancy_pct=Fraction(80), residents=100, disabled_or_dementia_residents=None
    )
    result = disabled_share(InstitutionFacts(date(2015, 1, 1), date(2015, 1, 1), (unknown,)), RULES)
    assert (result.passed, result.value) == (False, None)
    assert "2025" in result.detail


def test_disabled_share_without_the_later_year_fails_and_names_it() -> None:
    result = disabled_share(facts(year(2024, Fraction(80))), RULES)
    assert (result.passed, result.value, result.margin) == (False, None, None)
    assert "2025" in result.detail


def test_satisfaction_shows_95_percent_or_more_with_its_margin() -> None:
    result = satisfaction(97.5, RULES)
    assert _shown(result) == ("95", ">=", "%", "个百分点")
    assert (result.value, result.margin) == ("97.50", "2.50")
    assert "97.50" in result.detail
    missing = satisfaction(None, RULES)
    assert (missing.value, missing.margin, missing.passed) == (None, None, None)
    assert "尚未填写" in missing.detail


@pytest.mark.parametrize(
    ("declared", "words"), [(True, "已声明近5年无"), (False, "发生过"), (None, "尚未声明")]
)
def test_no_major_incident_shows_what_was_declared(declared: bool | None, words: str) -> None:
    result = no_major_incident(declared)
    assert (result.hard, result.passed) == (False, declared)
    assert words in result.detail


def test_each_side_is_judged_on_its_own_operating_date() -> None:
    """A medical side operating 3 years fails while the elderly-care side of 10 years passes, and the
    other way round; the declared figures reach the soft criteria."""
    years = (year(2024, Fraction(80)), year(2025, Fraction(80)))
    young_medical = institution_criteria(
        InstitutionFacts(date(2023, 1, 1), date(2016, 1, 1), years),
        RULES,
        declared_satisfaction_pct=96.0,
        declared_no_major_incident=True,
    )
    assert [(r.code, r.passed) for r in young_medical] == [
        ("medical_operating_years", False),
        ("elderly_care_operating_years", True),
        ("occupancy", True),
        ("disabled_share", True),
        ("satisfaction", True),
        ("no_major_incident", True),
    ]
    young_elderly = institution_criteria(
        InstitutionFacts(date(2016, 1, 1), date(2023, 1, 1), years),
        RULES,
        declared_satisfaction_pct=90.0,
        declared_no_major_incident=False,
    )
    assert [r.passed for r in young_elderly] == [True, False, True, True, False, False]
    assert young_elderly[0].label == "医疗服务开展年限"
    assert young_elderly[1].label == "养老服务开展年限"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 10, Fraction(0)), (1, 1, Fraction(100)), (3, 4, Fraction(75)), (1, 0, None), (-1, 4, None)],
)
def test_percent(numerator: int, denominator: int, expected: Fraction | None) -> None:
    assert percent(numerator, denominator) == expected
