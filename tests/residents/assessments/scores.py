"""Item scores for tests: a full set of the scale's items summing to a wanted total."""

from __future__ import annotations

from services.residents.assessments.scale import SCALES, AbilityScale

SCALE = SCALES["gbt42195-likely-1"]


def scores_totalling(total: int, scale: AbilityScale = SCALE) -> dict[str, int]:
    """Item scores summing to ``total``: consciousness first (so it stays above 0 — 0 would be 昏迷 —
    unless the total is 0), then the items in table order, each filled to its maximum."""
    scores = dict.fromkeys((item.code for item in scale.items), 0)
    left = total
    for item in sorted(scale.items, key=lambda item: item.code != "consciousness"):
        given = min(item.max_score, left)
        scores[item.code] = given
        left -= given
    assert left == 0
    return scores
