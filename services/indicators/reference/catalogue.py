"""The indicators of ``indicators.md`` (its Definitions table): one list, their codes, names and units.

A target names one of these codes (anything else is refused on import), and its value is read in the
indicator's unit:

- ``rate`` — a share, stored as a **fraction** (0.85 for 85 %, 1 for 100 %); a spreadsheet cell may hold
  ``85%`` (text, or a number formatted as a percentage, which the file stores as 0.85);
- ``per_10k`` — a number per 10,000 residents (1 for "≥ 1 bed per 10,000 residents");
- ``number`` — a number of things (institutions, beds, counties, orders …).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final


class Unit(StrEnum):
    rate = "rate"
    per_10k = "per_10k"
    number = "number"


UNIT_LABELS: Final[dict[str, str]] = {
    Unit.rate: "比率（小数，0.85 即 85%）",
    Unit.per_10k: "每万常住人口",
    Unit.number: "数量",
}


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    name: str
    unit: Unit


INDICATORS: Final[dict[str, Indicator]] = {
    i.code: i
    for i in (
        Indicator("integrated_institutions", "医养结合机构数", Unit.number),
        Indicator("integrated_beds", "医养结合机构床位数", Unit.number),
        Indicator("public_integrated_beds_per_10k", "每万常住人口公立医疗机构医养结合床位数", Unit.per_10k),
        Indicator("signed_pairs", "医养签约合作对数", Unit.number),
        Indicator("agreement_coverage", "养老机构签约覆盖率", Unit.rate),
        Indicator("green_channel_rate", "老年人绿色通道率", Unit.rate),
        Indicator("large_homes_integrated", "入住100人以上养老机构医养结合率", Unit.rate),
        Indicator("hospice_counties", "开展安宁疗护的县（比例）", Unit.rate),
        Indicator("elder_friendly_rate", "老年友善医疗机构比例", Unit.rate),
        Indicator("home_bed_providers", "开展家庭病床的医疗机构数", Unit.number),
        Indicator("home_beds_opened", "家庭病床建床数", Unit.number),
        Indicator("home_bed_satisfaction", "建床对象满意率", Unit.rate),
        Indicator("homecare_orders", "互联网+护理服务订单数", Unit.number),
        Indicator("round_visits_done", "巡诊完成率", Unit.rate),
        Indicator("referrals", "双向转诊数", Unit.number),
        Indicator("health_management_rate", "65岁及以上老年人城乡社区规范健康管理服务率", Unit.rate),
        Indicator("elder_checkups", "老年人体检人次", Unit.number),
        Indicator("family_doctor_signing_rate", "家庭医生签约率", Unit.rate),
        Indicator("family_doctor_renewal_rate", "家庭医生续签率", Unit.rate),
        Indicator("disabled_elder_assessments", "失能老年人健康评估人数", Unit.number),
    )
}


class Dataset(StrEnum):
    population = "population"
    targets = "targets"


DATASET_LABELS: Final[dict[str, str]] = {Dataset.population: "常住人口", Dataset.targets: "指标目标"}


class Comparison(StrEnum):
    """How an indicator's value is held against its target: value ≥, >, = or ≤ target."""

    gte = "gte"
    gt = "gt"
    eq = "eq"
    lte = "lte"

    def holds(self, value: Decimal | float | int, target: Decimal | float | int) -> bool:
        """Whether ``value`` meets ``target`` under this comparison (exact arithmetic on Decimals)."""
        actual, wanted = Decimal(str(value)), Decimal(str(target))
        if self is Comparison.gte:
            return actual >= wanted
        if self is Comparison.gt:
            return actual > wanted
        if self is Comparison.eq:
            return actual == wanted
        return actual <= wanted


COMPARISON_SIGNS: Final[dict[str, str]] = {
    Comparison.gte: "≥",
    Comparison.gt: ">",
    Comparison.eq: "=",
    Comparison.lte: "≤",
}
