"""The hard-criterion arithmetic at its boundaries (pure functions; the API tests repeat the key ones)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from services.registry.demonstration.criteria import (
    InstitutionFacts,
    Thresholds,
    YearFigures,
    anniversary,
    assessment_years,
    completed_years,
    disabled_share,
    institution_criteria,
    occupancy,
    operating_years,
    percent,
    satisfaction,
    shown,
)

CUTOFF = date(2026, 3, 31)
RULES = Thresholds(
    operating_cutoff_date=CUTOFF,
    operating_years_min=5,
    occupancy_min_pct=65,
    disabled_share_min_pct=65,
    satisfaction_min_pct=95,
)


def year(y: int, occupancy_pct: Fraction | None, residents: int = 100, share: int = 80) -> YearFigures:
    return YearFigures(
        year=y, occupancy_pct=occupancy_pct, residents=residents, disabled_or_dementia_residents=share
    )


def facts(*years: YearFigures) -> InstitutionFacts:
    return InstitutionFacts(date(2015, 1, 1), date(2015, 1, 1), tuple(years))


# ------------------------------------------------------------------------------------ operating years


def test_exactly_five_years_to_the_cutoff_day_passes_with_zero_margin() -> None:
    result = operating_years("elderly_care_operating_years", "养老服务开展年限", date(2021, 3, 31), RULES)
    assert result.passed is True
    assert result.value == "5"
    assert result.margin == "0"


def test_one_day_short_of_five_years_fails_by_one_day() -> None:
    result = operating_years("medical_operating_years", "医疗服务开展年限", date(2021, 4, 1), RULES)
    assert result.passed is False
    assert result.value == "4"
    assert result.margin == "-1"
    assert "差 1 天" in result.detail


def test_a_29_february_start_reaches_its_anniversary_on_28_february() -> None:
    assert anniversary(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert anniversary(date(2020, 2, 29), 4) == date(2024, 2, 29)
    rules = Thresholds(date(2025, 2, 28), 5, 65, 65, 95)
    assert operating_years("x", "x", date(2020, 2, 29), rules).passed is True
    earlier = Thresholds(date(2025, 2, 27), 5, 65, 65, 95)
    assert operating_years("x", "x", date(2020, 2, 29), earlier).passed is False


def test_completed_years_count_whole_years_up_to_and_including_the_day() -> None:
    assert completed_years(date(2021, 3, 31), CUTOFF) == 5
    assert completed_years(date(2021, 4, 1), CUTOFF) == 4
    assert completed_years(date(2026, 4, 1), CUTOFF) == 0


def test_a_side_without_an_operating_date_fails() -> None:
    result = operating_years("medical_operating_years", "医疗服务开展年限", None, RULES)
    assert result.passed is False
    assert result.value is None


# ------------------------------------------------------------------------------------ occupancy


def test_the_two_years_are_the_complete_calendar_years_before_the_cutoff() -> None:
    assert assessment_years(date(2026, 3, 31)) == (2024, 2025)
    assert assessment_years(date(2025, 12, 31)) == (2024, 2025)
    assert assessment_years(date(2025, 12, 30)) == (2023, 2024)


def test_occupancy_of_exactly_65_percent_in_both_years_passes() -> None:
    # 100 beds: 2024 has 366 days → 23,790 bed-days is exactly 65 %; 2025 → 23,725
    result = occupancy(
        facts(year(2024, percent(23790, 100 * 366)), year(2025, percent(23725, 100 * 365))), RULES
    )
    assert result.passed is True
    assert result.value == "65.00"
    assert result.margin == "0.00"


def test_occupancy_one_bed_day_under_65_percent_fails_with_the_shortfall() -> None:
    result = occupancy(
        facts(year(2024, percent(23789, 100 * 366)), year(2025, percent(30000, 100 * 365))), RULES
    )
    assert result.passed is False
    assert result.years is not None
    assert [y.passed for y in result.years] == [False, True]
    assert result.value == "64.99"  # 64.9973 %, rounded down for display
    assert result.margin == "-0.01"
    assert "2024 年" in result.detail


def test_occupancy_needs_each_of_the_two_years() -> None:
    result = occupancy(facts(year(2024, Fraction(90)), year(2025, Fraction(60))), RULES)
    assert result.passed is False
    assert result.value == "60.00"
    assert result.margin == "-5.00"


def test_a_missing_year_of_occupancy_fails_and_names_the_year() -> None:
    result = occupancy(facts(year(2025, Fraction(90))), RULES)
    assert result.passed is False
    assert "2024" in result.detail


# ------------------------------------------------------------------------------------ 失能/失智 share


def test_a_disabled_share_of_exactly_65_percent_fails() -> None:
    result = disabled_share(facts(year(2025, Fraction(80), residents=100, share=65)), RULES)
    assert result.passed is False
    assert result.value == "65.00"
    assert result.margin == "0.00"
    assert result.comparison == ">"


def test_a_disabled_share_of_65_01_percent_passes() -> None:
    result = disabled_share(facts(year(2025, Fraction(80), residents=10000, share=6501)), RULES)
    assert result.passed is True
    assert result.value == "65.01"
    assert result.margin == "0.01"


def test_the_share_is_taken_from_the_later_year() -> None:
    result = disabled_share(
        facts(
            year(2024, Fraction(80), residents=100, share=90),
            year(2025, Fraction(80), residents=100, share=60),
        ),
        RULES,
    )
    assert result.passed is False
    assert result.value == "60.00"


def test_no_residents_means_no_share_and_a_failure() -> None:
    result = disabled_share(facts(year(2025, Fraction(80), residents=0, share=0)), RULES)
    assert result.passed is False
    assert result.value is None


# ------------------------------------------------------------------------------------ soft criteria


@pytest.mark.parametrize(("declared", "passed"), [(95.0, True), (94.99, False), (None, None)])
def test_satisfaction_is_shown_but_never_a_hard_criterion(
    declared: float | None, passed: bool | None
) -> None:
    result = satisfaction(declared, RULES)
    assert result.hard is False
    assert result.passed is passed


def test_the_institution_criteria_are_four_hard_and_two_soft() -> None:
    results = institution_criteria(
        facts(year(2024, Fraction(80)), year(2025, Fraction(80))),
        RULES,
        declared_satisfaction_pct=None,
        declared_no_major_incident=None,
    )
    assert [(r.code, r.hard) for r in results] == [
        ("medical_operating_years", True),
        ("elderly_care_operating_years", True),
        ("occupancy", True),
        ("disabled_share", True),
        ("satisfaction", False),
        ("no_major_incident", False),
    ]


def test_figures_are_shown_rounded_down_to_two_decimals() -> None:
    assert shown(Fraction(130, 3)) == "43.33"
    assert shown(Fraction(2, 3)) == "0.66"
    assert shown(Fraction(-1, 400)) == "-0.01"
