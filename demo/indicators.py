"""Demo data of the indicators service: the 2025 targets of ``indicators.md`` and round population figures.

Idempotent (a dataset that already has a version is left alone); refuses production. Both tables are
loaded through the same checks and versioning as an official's XLSX file (``reference.loading.load``),
as version 1, "loaded" by ``demo-seed``.

**Targets** — those ``indicators.md`` gives for 2025 (its seed documents 000 and 002; 002 is a 泉州 city
document whose targets the demo applies to the whole province), each with its document as ``source``.
A rate is a fraction (1 = 100 %). "Each county" targets are set on the province (350000) with
``each_county``: the evaluation names the counties that fall short.

**Population** — NOT statistics: round figures marked ``source = demo``, for 2023 to the current year (the
same figures each year). Each city-level unit's resident population is an approximate recent figure in units
of 10,000 (``CITIES``; 福州 without 平潭, 平潭 on its own), summing to about 41.8 million for Fujian; it
is split equally among the unit's county-level divisions (``libs/common/data/fujian_divisions.csv``) and
rounded to 1,000. The share aged 65+ is set per city (older in the mountainous north and west — 南平,
三明, 龙岩 —, younger in 厦门), about 11 % for the province; each county's 65+ figure is rounded to 100 —
except 湖里's, the figure the seeds' own 2024 figures imply (``COUNTY_AGED_65_PLUS``: 46,300).

Run: ``python -m demo.indicators``.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from demo import refuse_in_production
from libs.common import divisions
from libs.common.auth import Principal, Role
from libs.common.clock import today_in_china
from libs.common.database import Database, session_scope
from services.indicators import models as _all_models  # noqa: F401  (every table on the metadata)
from services.indicators.reference.catalogue import Dataset
from services.indicators.reference.loading import load
from services.indicators.reference.service import current_version
from services.indicators.reference.spreadsheet import SheetRow
from services.indicators.settings import IndicatorsSettings

DEMO_SOURCE: Final = "demo"
#: 2023 up to the current year (China time), so the running year's per-10k figures are not missing
YEARS: Final = tuple(range(2023, today_in_china().year + 1))
SEEDER: Final = Principal(sub="demo-seed", role=Role.province_admin, region_code=divisions.PROVINCE_CODE)

# city-level unit: (resident population in 10,000s, share aged 65+) — demo figures, not statistics
CITIES: Final[dict[str, tuple[int, Decimal]]] = {
    "350100": (810, Decimal("0.11")),  # 福州 (without 平潭)
    "350128": (36, Decimal("0.10")),  # 平潭
    "350200": (533, Decimal("0.08")),  # 厦门
    "350300": (322, Decimal("0.11")),  # 莆田
    "350400": (245, Decimal("0.14")),  # 三明
    "350500": (888, Decimal("0.10")),  # 泉州
    "350600": (505, Decimal("0.11")),  # 漳州
    "350700": (263, Decimal("0.15")),  # 南平
    "350800": (271, Decimal("0.13")),  # 龙岩
    "350900": (315, Decimal("0.12")),  # 宁德
}

#: counties whose 65+ figure is not the equal split: 湖里 — what source 001's two figures of 2024 imply
#: (38,833 check-ups, of which the residents demo makes 93 % 规范, at a 规范健康管理率 of 77.96 %: 36,115 /
#: 0.7796 ≈ 46,300; 5.2 % of its 888,000 residents, a young district). With the equal split (71,000) the
#: demo's own check-ups gave 50.8 %, far from the 77.96 % the district reported.
COUNTY_AGED_65_PLUS: Final[dict[str, int]] = {"350206": 46_300}

DUE_2025: Final = date(2025, 12, 31)
PROVINCE: Final = divisions.PROVINCE_CODE

# (indicator, region, each county, comparison, value, due date, source) — indicators.md, Definitions
TARGETS: Final[list[tuple[str, str, bool, str, Decimal, date, str]]] = [
    # ≥ 1 public integrated bed per 10,000 residents, per county (002 附件1)
    ("public_integrated_beds_per_10k", PROVINCE, True, "gte", Decimal(1), DUE_2025, "002 附件1"),
    # 养老机构签约覆盖率 100 % (002): every county must sign all its homes
    ("agreement_coverage", PROVINCE, True, "gte", Decimal(1), DUE_2025, "002"),
    # homes with > 100 residents all 医养结合 by 2025 (002)
    ("large_homes_integrated", PROVINCE, False, "gte", Decimal(1), DUE_2025, "002"),
    # 安宁疗护 in every county (002 附件1)
    ("hospice_counties", PROVINCE, True, "gte", Decimal(1), DUE_2025, "002 附件1"),
    # 老年友善医疗机构 80 % by 2023, 85 % by 2025 (002 附件1)
    ("elder_friendly_rate", PROVINCE, False, "gte", Decimal("0.80"), date(2023, 12, 31), "002 附件1"),
    ("elder_friendly_rate", PROVINCE, False, "gte", Decimal("0.85"), DUE_2025, "002 附件1"),
    # 1–2 home-bed providers per county by 2025: at least 1 (002)
    ("home_bed_providers", PROVINCE, True, "gte", Decimal(1), DUE_2025, "002"),
    # 65+ health management ≥ 75 % by 2025 (002)
    ("health_management_rate", PROVINCE, False, "gte", Decimal("0.75"), DUE_2025, "002"),
    # 建床对象满意率 ≥ 95 % (000; no date given: the demo's 2025)
    ("home_bed_satisfaction", PROVINCE, False, "gte", Decimal("0.95"), DUE_2025, "000"),
]


def population_rows() -> list[dict[str, Any]]:
    """One row per county-level division and year: its city's figure split equally, rounded."""
    rows: list[dict[str, Any]] = []
    for city, (ten_thousands, aged_share) in CITIES.items():
        counties = divisions.counties_of(city)
        residents = round(ten_thousands * 10_000 // len(counties), -3)
        aged = int(round(residents * aged_share, -2))
        for county in counties:
            for year in YEARS:
                rows.append(
                    {
                        "region_code": county.code,
                        "year": year,
                        "residents": residents,
                        "aged_65_plus": COUNTY_AGED_65_PLUS.get(county.code, aged),
                        "source": DEMO_SOURCE,
                    }
                )
    return rows


def target_rows() -> list[dict[str, Any]]:
    keys = ("indicator", "region_code", "each_county", "comparison", "value", "due_date", "source")
    return [dict(zip(keys, target, strict=True)) for target in TARGETS]


async def seed_reference(session: AsyncSession) -> int:
    """Load each dataset that was never loaded; the number of rows added."""
    added = 0
    for dataset, rows in ((Dataset.population, population_rows()), (Dataset.targets, target_rows())):
        if await current_version(session, dataset) is not None:
            continue
        sheet = [SheetRow(line, values) for line, values in enumerate(rows, start=2)]
        version = await load(session, SEEDER, dataset, sheet, filename=None)
        added += version.row_count
    return added


async def seed(settings: IndicatorsSettings) -> None:
    refuse_in_production(settings)
    database = Database(settings)
    try:
        async with session_scope(database) as session:
            added = await seed_reference(session)
    finally:
        await database.dispose()
    print(f"indicators: {added} demo reference rows added")


if __name__ == "__main__":
    asyncio.run(seed(IndicatorsSettings()))
