"""The GB/T 42195-2022 scoring (pure): the item table, each level cut-off at and around its boundary,
and the adjustments (domain/rules.md: coma → level 4; dementia, mental disorder, ≥ 2 care-risk events
in 30 days → one level up, at most 4)."""

from __future__ import annotations

import pytest

from services.residents.assessments.scale import AbilityDomain, Adjustment, score, score_problems
from tests.residents.assessments.scores import SCALE, scores_totalling


def test_the_table_has_26_items_in_four_domains_totalling_90() -> None:
    assert len(SCALE.items) == 26
    assert SCALE.total_max == 90
    per_domain = {d: sum(i.max_score for i in SCALE.items if i.domain is d) for d in AbilityDomain}
    assert per_domain == {
        AbilityDomain.self_care: 32,
        AbilityDomain.basic_motor: 16,
        AbilityDomain.mental: 30,
        AbilityDomain.perception_social: 12,
    }


@pytest.mark.parametrize(
    ("total", "level"),
    [
        (90, 0),
        (89, 1),
        (88, 1),
        (67, 1),
        (66, 1),
        (65, 2),
        (64, 2),
        (47, 2),
        (46, 2),
        (45, 3),
        (44, 3),
        (31, 3),
        (30, 3),
        (29, 4),
        (28, 4),
        (1, 4),
    ],
)
def test_level_follows_the_band_of_the_total(total: int, level: int) -> None:
    result = score(
        SCALE, scores_totalling(total), dementia=False, mental_disorder=False, care_risk_events_30d=0
    )
    assert (result.total, result.total_level, result.level, result.adjustments) == (total, level, level, ())


def test_total_zero_is_complete_loss_through_coma_too() -> None:
    result = score(SCALE, scores_totalling(0), dementia=False, mental_disorder=False, care_risk_events_30d=0)
    assert (result.total, result.total_level, result.level, result.adjustments) == (
        0,
        4,
        4,
        (Adjustment.coma,),
    )


def test_coma_puts_an_otherwise_intact_elder_at_level_4() -> None:
    scores = scores_totalling(90)
    scores["consciousness"] = 0
    result = score(SCALE, scores, dementia=False, mental_disorder=False, care_risk_events_30d=0)
    assert (result.total, result.total_level, result.level, result.adjustments) == (
        86,
        1,
        4,
        (Adjustment.coma,),
    )


@pytest.mark.parametrize(
    ("total", "dementia", "mental_disorder", "events", "level"),
    [
        (90, True, False, 0, 1),
        (66, False, True, 0, 2),
        (65, False, False, 2, 3),
        (65, False, False, 1, 2),
        (46, True, True, 3, 3),  # several reasons still raise one level
        (29, True, False, 0, 4),  # never above 4
    ],
)
def test_dementia_mental_disorder_or_two_risk_events_raise_one_level(
    total: int, dementia: bool, mental_disorder: bool, events: int, level: int
) -> None:
    result = score(
        SCALE,
        scores_totalling(total),
        dementia=dementia,
        mental_disorder=mental_disorder,
        care_risk_events_30d=events,
    )
    assert result.level == level


def test_domain_totals_sum_to_the_total() -> None:
    result = score(SCALE, scores_totalling(50), dementia=False, mental_disorder=False, care_risk_events_30d=0)
    assert sum(result.domain_totals.values()) == 50


def test_problems_name_unknown_missing_and_out_of_range_items() -> None:
    scores = scores_totalling(90)
    del scores["eating"]
    scores["vision"] = 3
    scores["flying"] = 1
    problems = {(p.kind, p.item_code) for p in score_problems(SCALE, scores)}
    assert problems == {("unknown", "flying"), ("missing", "eating"), ("out_of_range", "vision")}
    assert score_problems(SCALE, scores_totalling(90)) == []
