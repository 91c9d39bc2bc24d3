"""Every indicator of ``indicators.md`` as the reports compute it: how (its units, see units.py), what its
records are, and — for the ones the platform has no facts for — why it is missing.

Names and units come from the reference catalogue (one list for targets and reports). The seeds'
baselines are data: ``services/indicators/data/baselines.csv`` (indicator, region, year, value, source
document id as indicators.md names them: 000, 001, 002).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Select

from services.indicators.reference.catalogue import INDICATORS, Unit
from services.indicators.reports.families import agreements, homecare, institutions, residents
from services.indicators.reports.periods import Period
from services.indicators.reports.units import (
    AGREEMENT,
    ASSESSMENT,
    CHECKUP,
    COUNTY,
    HOME_BED,
    INSTITUTION,
    ORDER,
    PAIR,
    REFERRAL,
    SIGNING,
    RecordKind,
    UnitsBuilder,
)

NO_POPULATION: Final = "未导入人口数据"
NO_RESIDENT_SERVICES: Final = "居民服务尚未上线"
EMPTY_DENOMINATOR: Final = "分母为 0（区域内没有符合条件的记录）"
NO_REPORTS: Final = "无上报（区域内没有县（区）上报该类记录）"


@dataclass(frozen=True, slots=True)
class Reporting:
    """How a county *reports* a figure fed by city platforms (the residents' figures): it holds at least
    one record the ``builder`` selects for the period (families/residents.py, Reporting). A region's figure
    is then summed over its reporting counties only, with the coverage beside it."""

    code: str  # checkups | signings | assessments
    label: str  # the records, in Chinese
    builder: UnitsBuilder


CHECKUPS_REPORTED = Reporting("checkups", "体检记录", residents.checkups_reported)
SIGNINGS_REPORTED = Reporting("signings", "家庭医生签约记录", residents.signings_reported)
ASSESSMENTS_REPORTED = Reporting("assessments", "能力评估记录", residents.assessments_reported)


@dataclass(frozen=True, slots=True)
class Definition:
    code: str
    numerator: str  # what the numerator counts (Chinese)
    denominator: str | None
    records: RecordKind | None = None
    builder: UnitsBuilder | None = None
    # "units": num/den from the units; "population": num from the units, den = resident population;
    # "aged": num from the units, den = population aged 65+; "counties": counties with ≥ 1 unit /
    # counties of the region
    method: str = "units"
    missing: str | None = None
    # the followed feed the facts come from, when the figure is missing until that feed has delivered
    # anything (the residents service: no record yet is "not live", not 0)
    feed: str | None = None
    # rows (region_code, party_a, party_b, requested_at, accepted_at) whose median response time the
    # report shows beside the figure (referrals)
    response_times: Callable[[Period], Select[Any]] | None = None
    # figures summed over the counties that report them (see Reporting), with the coverage shown
    reporting: Reporting | None = None

    @property
    def name(self) -> str:
        return INDICATORS[self.code].name

    @property
    def unit(self) -> Unit:
        return INDICATORS[self.code].unit


DEFINITIONS: Final[dict[str, Definition]] = {
    d.code: d
    for d in (
        Definition(
            "integrated_institutions", "医养结合机构", None, INSTITUTION, institutions.integrated_institutions
        ),
        Definition("integrated_beds", "医养结合机构床位", None, INSTITUTION, institutions.integrated_beds),
        Definition(
            "public_integrated_beds_per_10k",
            "公立医疗机构的医养结合床位 × 10000",
            "常住人口",
            INSTITUTION,
            institutions.public_integrated_beds,
            method="population",
        ),
        Definition("signed_pairs", "协议有效的签约机构对", None, PAIR, agreements.signed_pairs),
        Definition(
            "agreement_coverage",
            "已签约或自设医疗机构的养老机构",
            "养老机构（不含农村幸福院、日间照料中心）",
            INSTITUTION,
            agreements.agreement_coverage,
        ),
        Definition(
            "green_channel_rate",
            "开设老年人绿色通道的一级及以上医疗机构",
            "一级及以上医疗机构",
            INSTITUTION,
            institutions.green_channel_rate,
        ),
        Definition(
            "large_homes_integrated",
            "入住100人以上且医养结合的养老机构",
            "入住100人以上的养老机构",
            INSTITUTION,
            institutions.large_homes_integrated,
        ),
        Definition(
            "hospice_counties",
            "有医疗机构开展安宁疗护的县（区）",
            "县（区）",
            COUNTY,
            institutions.hospice_institutions,
            method="counties",
        ),
        Definition(
            "elder_friendly_rate",
            "老年友善医疗机构",
            "医疗机构",
            INSTITUTION,
            institutions.elder_friendly_rate,
        ),
        Definition(
            "home_bed_providers", "统计期内有建床的医疗机构", None, INSTITUTION, homecare.home_bed_providers
        ),
        Definition("home_beds_opened", "统计期内建床的家庭病床", None, HOME_BED, homecare.home_beds_opened),
        Definition(
            "home_bed_satisfaction",
            "统计期内撤床的家庭病床的满意评价（评分≥4）",
            "统计期内撤床的家庭病床的评价",
            HOME_BED,
            homecare.home_bed_satisfaction,
        ),
        Definition("homecare_orders", "统计期内下单的护理服务订单", None, ORDER, homecare.homecare_orders),
        Definition(
            "round_visits_done",
            "统计期内已记录的巡诊次数",
            "有效协议在统计期内应巡诊次数",
            AGREEMENT,
            agreements.round_visits_done,
        ),
        Definition(
            "referrals",
            "统计期内申请的双向转诊",
            None,
            REFERRAL,
            agreements.referrals,
            response_times=agreements.referral_response_times,
        ),
        Definition(
            "health_management_rate",
            "统计期内有规范健康管理记录的65岁及以上老年人",
            "65岁及以上常住人口",
            CHECKUP,
            residents.health_managed,
            method="aged",
            feed="residents",
            reporting=CHECKUPS_REPORTED,
        ),
        Definition(
            "elder_checkups",
            "统计期内65岁及以上老年人体检人次",
            None,
            CHECKUP,
            residents.elder_checkups,
            feed="residents",
            reporting=CHECKUPS_REPORTED,
        ),
        Definition(
            "family_doctor_signing_rate",
            "统计期末签约在有效期内的居民",
            "65岁及以上常住人口",
            SIGNING,
            residents.signed_residents,
            method="aged",
            feed="residents",
            reporting=SIGNINGS_REPORTED,
        ),
        Definition(
            "family_doctor_renewal_rate",
            "续签的签约",
            "统计期内期满的签约（提前解约的除外）",
            SIGNING,
            residents.renewals,
            feed="residents",
            reporting=SIGNINGS_REPORTED,
        ),
        Definition(
            "disabled_elder_assessments",
            "统计期内评估为失能的老年人",
            None,
            ASSESSMENT,
            residents.disabled_assessed,
            feed="residents",
            reporting=ASSESSMENTS_REPORTED,
        ),
    )
}
assert set(DEFINITIONS) == set(INDICATORS), "every indicator of the catalogue has a definition"


@dataclass(frozen=True, slots=True)
class Baseline:
    indicator: str
    region_code: str
    year: int
    value: Decimal
    source: str
    note: str


@cache
def baselines() -> dict[tuple[str, str], Baseline]:
    """The seeds' baselines, by (indicator, region); the latest year when several."""
    path = Path(__file__).resolve().parent.parent / "data" / "baselines.csv"
    found: dict[tuple[str, str], Baseline] = {}
    with path.open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            baseline = Baseline(
                row["indicator"],
                row["region_code"],
                int(row["year"]),
                Decimal(row["value"]),
                row["source"],
                row["note"],
            )
            key = (baseline.indicator, baseline.region_code)
            if key not in found or found[key].year < baseline.year:
                found[key] = baseline
    return found
