"""老年人能力评估 (GB/T 42195-2022) as versioned data: the item table, the level bands, and the scoring.

The items and bands come from ``data/ability_items.csv`` and ``data/ability_levels.csv`` (our reading,
``likely``). The service computes the total and the level; a client never sends them.

Scoring (domain/rules.md, *confirmed*): the level is the band of the total score; 意识水平 at 0 (昏迷) puts
the elder straight at level 4; dementia, another diagnosed mental disorder, or two or more care-risk events
(跌倒、走失、噎食、自杀自伤) in the last 30 days raise the level by one (once, at most to level 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.residents.data import read_table


class AbilityDomain(StrEnum):
    self_care = "self_care"
    basic_motor = "basic_motor"
    mental = "mental"
    perception_social = "perception_social"


DOMAIN_LABELS = {
    AbilityDomain.self_care: "自理能力",
    AbilityDomain.basic_motor: "基础运动能力",
    AbilityDomain.mental: "精神状态",
    AbilityDomain.perception_social: "感知觉与社会参与",
}


class Adjustment(StrEnum):
    coma = "coma"
    dementia = "dementia"
    mental_disorder = "mental_disorder"
    care_risk_events = "care_risk_events"


ADJUSTMENT_LABELS = {
    Adjustment.coma: "昏迷，直接评定为能力完全丧失",
    Adjustment.dementia: "痴呆，等级上调一级",
    Adjustment.mental_disorder: "确诊其他精神障碍，等级上调一级",
    Adjustment.care_risk_events: "近 30 天内发生 2 次及以上照护风险事件，等级上调一级",
}

#: the item whose score 0 means 昏迷 (coma)
CONSCIOUSNESS_ITEM = "consciousness"
#: care-risk events in the last 30 days from which the level is raised by one
CARE_RISK_EVENTS_RAISING = 2
HIGHEST_LEVEL = 4


@dataclass(frozen=True, slots=True)
class AbilityItem:
    code: str
    domain: AbilityDomain
    name: str
    max_score: int


@dataclass(frozen=True, slots=True)
class LevelBand:
    level: int
    name: str
    disability_name: str
    min_total: int
    max_total: int


@dataclass(frozen=True, slots=True)
class AbilityScale:
    version: str
    items: tuple[AbilityItem, ...]
    bands: tuple[LevelBand, ...]

    @property
    def total_max(self) -> int:
        return sum(item.max_score for item in self.items)

    def item(self, code: str) -> AbilityItem | None:
        return next((item for item in self.items if item.code == code), None)

    def band(self, level: int) -> LevelBand:
        return next(band for band in self.bands if band.level == level)

    def level_of_total(self, total: int) -> int:
        for band in self.bands:
            if band.min_total <= total <= band.max_total:
                return band.level
        raise ValueError(f"total {total} lies in no band of scale {self.version}")


@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """An item the scores got wrong: ``kind`` is ``unknown``, ``missing`` or ``out_of_range``."""

    kind: str
    item_code: str
    message: str


@dataclass(frozen=True, slots=True)
class AbilityResult:
    total: int
    domain_totals: dict[AbilityDomain, int]
    total_level: int
    level: int
    adjustments: tuple[Adjustment, ...]


def _load() -> dict[str, AbilityScale]:
    items: dict[str, list[tuple[int, AbilityItem]]] = {}
    for row in read_table("ability_items.csv"):
        item = AbilityItem(
            code=row["code"],
            domain=AbilityDomain(row["domain"]),
            name=row["name"],
            max_score=int(row["max_score"]),
        )
        items.setdefault(row["scale_version"], []).append((int(row["sort_order"]), item))
    bands: dict[str, list[LevelBand]] = {}
    for row in read_table("ability_levels.csv"):
        bands.setdefault(row["scale_version"], []).append(
            LevelBand(
                level=int(row["level"]),
                name=row["name"],
                disability_name=row["disability_name"],
                min_total=int(row["min_total"]),
                max_total=int(row["max_total"]),
            )
        )
    scales = {}
    for version, rows in items.items():
        scale = AbilityScale(
            version=version,
            items=tuple(item for _, item in sorted(rows, key=lambda pair: pair[0])),
            bands=tuple(sorted(bands[version], key=lambda band: band.level)),
        )
        covered = sorted(t for band in scale.bands for t in range(band.min_total, band.max_total + 1))
        if covered != list(range(scale.total_max + 1)):
            raise ValueError(f"the bands of scale {version} do not cover 0–{scale.total_max} exactly once")
        scales[version] = scale
    return scales


SCALES: dict[str, AbilityScale] = _load()


def score_problems(scale: AbilityScale, scores: Mapping[str, int]) -> list[ScoreProblem]:
    """What is wrong with ``scores`` against the item table (empty: every item scored within its range)."""
    problems = [
        ScoreProblem("unknown", code, f"量表 {scale.version} 中没有评估项目 {code}")
        for code in scores
        if scale.item(code) is None
    ]
    problems += [
        ScoreProblem("missing", item.code, f"缺少评估项目“{item.name}”的得分")
        for item in scale.items
        if item.code not in scores
    ]
    problems += [
        ScoreProblem("out_of_range", item.code, f"“{item.name}”的得分须在 0–{item.max_score} 之间")
        for item in scale.items
        if item.code in scores and not 0 <= scores[item.code] <= item.max_score
    ]
    return problems


def score(
    scale: AbilityScale,
    scores: Mapping[str, int],
    *,
    dementia: bool,
    mental_disorder: bool,
    care_risk_events_30d: int,
) -> AbilityResult:
    """The total, per-domain totals and level of valid ``scores`` (check :func:`score_problems` first)."""
    domain_totals = dict.fromkeys(AbilityDomain, 0)
    for item in scale.items:
        domain_totals[item.domain] += scores[item.code]
    total = sum(domain_totals.values())
    total_level = scale.level_of_total(total)
    adjustments: list[Adjustment] = []
    if scale.item(CONSCIOUSNESS_ITEM) is not None and scores[CONSCIOUSNESS_ITEM] == 0:
        adjustments.append(Adjustment.coma)
        level = HIGHEST_LEVEL
    else:
        if dementia:
            adjustments.append(Adjustment.dementia)
        if mental_disorder:
            adjustments.append(Adjustment.mental_disorder)
        if care_risk_events_30d >= CARE_RISK_EVENTS_RAISING:
            adjustments.append(Adjustment.care_risk_events)
        level = min(total_level + 1, HIGHEST_LEVEL) if adjustments else total_level
    return AbilityResult(
        total=total,
        domain_totals=domain_totals,
        total_level=total_level,
        level=level,
        adjustments=tuple(adjustments),
    )
