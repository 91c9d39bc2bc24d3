"""Demo data of the registry: a province that looks like Fujian (issue 14).

About 1,450 institutions, each county's share proportional to its population in ``demo.indicators``
(the one source of population figures; at least 8 a county; 金门县 350527, Taiwan-administered, none):
its county hospital (二级) and TCM hospital, a welfare centre, then by fixed shares 乡镇卫生院 (after its
real town) or 社区卫生服务中心 (after its real 街道, ``demo/data/fujian_townships.csv``), private hospitals
(mostly 一级 or 未定级), 村卫生室 or 诊所, private homes, a town's 敬老院, 农村幸福院 or 日间照料中心 and
医养结合 institutions (颐养院 养办医, 护理院 医办养). 三级 hospitals stand in the cities' main districts
(``CITY_CENTRE_HOSPITALS``). Opening dates respect when each kind appeared (``SINCE``). Points lie near
the county's anchor, inland of it on the coast, inside its box (``demo/data/county_areas.csv``).

:func:`finish` then sets the province-wide figures to the source documents (indicators.md): 192 医养结合
institutions (kind integrated; homes with an accepted 内设医疗机构 filing, nine of them in 湖里; 卫生院
with elderly-care beds) with 53,000 beds; a 绿色通道 at 98.8 % of graded hospitals and never at an
elderly-care-only institution; 269 institutions offering home beds (one a county at least, every 湖里
社区卫生服务中心); 33 互联网+护理 providers. The named institutions and practitioners of the briefing have
their demo ids (``demo_id("institution", name)``); 福州市社会福利院 has its 医务室 filing (2005) and beds.
Nurses of every title, year figures for the last three years. Deterministic (a fixed random seed),
idempotent (what exists is skipped).

Every row goes through the registry's own write path, as a province administrator (:data:`SEEDER`)
with source system ``demo``, each record keyed and created under its demo id; a record the rules refuse
stops the seed (:class:`SeedRejected`, naming it and its code):

- institutions through the bulk writer of ``POST /institutions/bulk`` (:func:`write_institutions`,
  ``services.registry.institutions.batch_write``: the rules of ``POST /institutions``, USCC owners, audit
  records, change-feed entries);
- filings through the historical import of ``POST /filings/bulk`` (``services.registry.filings.bulk``):
  accepted on their historical dates, one revoked 200 days later with its reason, each step a history
  entry and audit record on its original date, the home's ``has_medical_unit`` refreshed;
- year figures through ``POST /institutions/year-stats/bulk`` (``institutions.year_stats_bulk``: the
  rules of the PUT, past years only);
- practitioners through ``POST /practitioners/bulk`` (``services.registry.practitioners.bulk``: the
  single create's rules, ID numbers and phones encrypted with the blind index).

Run: ``python -m demo.registry``.
"""

from __future__ import annotations

import asyncio
import csv
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import SeedRejected, demo_id, refuse_in_production
from demo import demonstration as demonstration_seed
from demo import indicators as indicators_seed
from libs.common import changes
from libs.common.auth import Principal, Role
from libs.common.bulk import (
    DEFAULT_MAX_RECORDS,
    BulkOutcome,
    BulkRecord,
    BulkResponse,
    open_batch,
)
from libs.common.database import Database, session_scope
from libs.common.divisions import PROVINCE_CODE
from libs.common.identifiers import id_number_check_char, uscc_check_char
from libs.common.keys import personal_data_cipher
from libs.common.models import utcnow
from libs.common.personal_data import PersonalDataCipher
from services.registry import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.registry.filings import bulk as filings_bulk
from services.registry.filings.models import FilingState, UnitKind
from services.registry.filings.schemas import FilingBulkRequest
from services.registry.institutions import batch_write, year_stats_bulk
from services.registry.institutions.batch_write import Candidate
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import InstitutionCreate
from services.registry.institutions.year_stats_bulk import YearStatBulkRequest
from services.registry.practitioners import bulk as practitioners_bulk
from services.registry.practitioners.models import Practitioner
from services.registry.practitioners.schemas import PractitionerBulkRequest
from services.registry.settings import RegistrySettings

KINMEN: Final = "350527"
DATA: Final = Path(__file__).parent / "data"
AREAS_FILE: Final = DATA / "county_areas.csv"
TOWNSHIPS_FILE: Final = DATA / "fujian_townships.csv"

#: the demo province's size (金门 excluded) and its headline aggregates (indicators.md, seed 000)
TOTAL_INSTITUTIONS: Final = 1450
INTEGRATED_TARGET: Final = 192
INTEGRATED_BEDS_TARGET: Final = 53_000
GREEN_CHANNEL_SHARE: Final = 0.988
HOME_BED_PROVIDERS: Final = 269
INTERNET_NURSING_PROVIDERS: Final = 33
HULI: Final = "350206"
HULI_FILED_HOMES: Final = 9  # 湖里's homes with an accepted 内设医务室 filing (seed 001), 兰馨颐养院 included
#: the categories of the medical institutions that run 家庭病床 (kind medical)
HOME_BED_CATEGORIES: Final = ("hospital", "community_health_center", "township_health_center")
#: township health centres that keep elderly-care beds (医疗机构 with registered 养老床位, 两证齐全)
TOWNSHIP_WITH_ELDERLY_BEDS: Final = 35


def make_uscc(first17: str) -> str:
    """Append the GB 32100 check character to 17 characters."""
    return first17 + uscc_check_char(first17)


def make_id_card(first17: str) -> str:
    """Append the GB 11643 check character to 17 digits."""
    return first17 + id_number_check_char(first17)


def _org_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "".join(rng.choice(alphabet) for _ in range(9))


@dataclass(frozen=True)
class CountyArea:
    """A county's anchor (its seat, moved inland where the seat is on the shore), its bounding box and
    the side the sea lies on (``E``, ``SE``, ``S``; ``island``; empty inland) — ``county_areas.csv``."""

    code: str
    name: str
    anchor: tuple[float, float]
    box: tuple[float, float, float, float]  # south, west, north, east
    sea: str

    def contains(self, lat: float, lng: float) -> bool:
        south, west, north, east = self.box
        return south <= lat <= north and west <= lng <= east


#: the unit vector (north, east) pointing out to sea
SEA_DIRECTIONS: Final = {"E": (0.0, 1.0), "SE": (-0.7071, 0.7071), "S": (-1.0, 0.0)}


def county_areas() -> dict[str, CountyArea]:
    with AREAS_FILE.open(encoding="utf-8") as handle:
        return {
            row["code"]: CountyArea(
                row["code"],
                row["name"],
                (float(row["lat"]), float(row["lng"])),
                (float(row["south"]), float(row["west"]), float(row["north"]), float(row["east"])),
                row["sea"],
            )
            for row in csv.DictReader(handle)
        }


def townships() -> dict[str, list[str]]:
    """County code → its towns, townships and streets (统计用区划代码 2023), in code order."""
    result: dict[str, list[str]] = {}
    with TOWNSHIPS_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            result.setdefault(row["county_code"], []).append(row["name"])
    return result


def jitter(area: CountyArea, rng: random.Random) -> tuple[float, float]:
    """A point near the county's anchor: within 0.01° on an island, 0.02° in a district, 0.05° in a
    county; in a coastal county never on the sea side of the anchor (reflected inland)."""
    radius = 0.01 if area.sea == "island" else 0.02 if area.name.endswith("区") else 0.05
    for _ in range(50):
        d_lat, d_lng = rng.uniform(-radius, radius), rng.uniform(-radius, radius)
        sea = SEA_DIRECTIONS.get(area.sea)
        if sea is not None:
            outward = d_lat * sea[0] + d_lng * sea[1]
            if outward > 0:
                d_lat, d_lng = d_lat - 2 * outward * sea[0], d_lng - 2 * outward * sea[1]
        lat, lng = round(area.anchor[0] + d_lat, 5), round(area.anchor[1] + d_lng, 5)
        if area.contains(lat, lng):
            return lat, lng
    return area.anchor


ROADS: Final = "人民 中山 解放 建设 新华 和平 府前 东大 西门 南门 北环 胜利 民主 青年 工业 学府".split()
#: village names common in Fujian, used with a real town for 村卫生室 and 农村幸福院 (demo, not a list)
VILLAGES: Final = "前村 后洋 东坑 西林 下坂 上厝 林边 溪头 田中 坑口 岭下 洋尾 湖洋 后坑 新厝 溪南".split()
#: words private institutions take for their names; each used once a county
WORDS: Final = (
    "康乐 福寿 松鹤 夕阳红 颐和 安康 椿萱 乐龄 康宁 福泰 如意 长青 寿山 怡园 仁爱 博爱 协和 惠民 华康 "
    "同济 济民 永和 祥和 百福 天伦 颐年 福乐 康泰 安顺 和睦 瑞康 嘉禾 益寿 泰和 仁和 德康 宁康 普济 康美 "
    "慈航 善德 鹤龄 晚晴 众康 爱心 温馨 阳光 春晖"
).split()
SURNAMES: Final = "林 陈 黄 张 吴 王 郑 李 刘 蔡 杨 许 叶 曾 周 谢 何 苏 邱 游".split()
GIVEN: Final = (
    "晓燕 美玲 丽 建国 秀英 志强 雅婷 丽华 文斌 淑芬 海燕 国平 思琪 宏伟 婉清 伟明 慧敏 俊杰".split()
)
NURSE_TITLES: Final = ("nurse", "senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse")
DOCTOR_TITLES: Final = ("physician", "attending_physician", "associate_chief_physician", "chief_physician")

#: when each category may have opened (years): 社区卫生服务中心 from the late 1990s, 日间照料中心 from
#: 2011, 农村幸福院 from 2012; hospitals and 卫生院 may be old
SINCE: Final = {
    "hospital": (1950, 2015),
    "private_hospital": (2000, 2020),
    "township_health_center": (1952, 1985),
    "community_health_center": (1998, 2015),
    "village_clinic": (1970, 2015),
    "clinic": (2000, 2022),
    "welfare_center": (1958, 2000),
    "nursing_home_public": (1985, 2010),  # 敬老院 of a town
    "elderly_care_home": (2000, 2021),
    "rural_happiness_home": (2012, 2022),
    "day_care_center": (2011, 2023),
    "integrated": (2012, 2021),
}

#: 三级 hospitals of each city's main urban districts (city centres): (county, name, type)
CITY_CENTRE_HOSPITALS: Final = (
    ("350102", "福州市中医院", "tcm"),
    ("350103", "福州市第一医院", "general"),
    ("350104", "福州市第二医院", "general"),
    ("350203", "厦门市第一医院", "general"),
    ("350206", "厦门市中医院", "tcm"),
    ("350302", "莆田市第一医院", "general"),
    ("350304", "莆田市中医院", "tcm"),
    ("350404", "三明市第一医院", "general"),
    ("350502", "泉州市第一医院", "general"),
    ("350503", "泉州市中医院", "tcm"),
    ("350602", "漳州市医院", "general"),
    ("350602", "漳州市中医院", "tcm"),
    ("350702", "南平市第一医院", "general"),
    ("350802", "龙岩市第一医院", "general"),
    ("350902", "宁德市医院", "general"),
)

#: the share of a county's institutions (beyond its county hospital, TCM hospital and welfare centre)
#: each kind of institution takes
SHARES: Final = {
    "private_hospital": 0.22,
    "primary": 0.28,  # 乡镇卫生院 after a town, 社区卫生服务中心 after a street
    "small_medical": 0.06,  # 村卫生室 in a town, else a private 诊所
    "home": 0.195,
    "community": 0.12,  # 农村幸福院 in a town, 日间照料中心 in a street
    "town_home": 0.06,  # 敬老院 of a town
    "integrated": 0.065,
}


@dataclass
class Spec:
    """One institution to seed: its column values (without id/bookkeeping)."""

    values: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.values["name"])


def _date_in(rng: random.Random, first: int, last: int) -> date:
    return date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28))


def _base(name: str, region: str, kind: str, category: str, *, rng: random.Random, **values: Any) -> Spec:
    area: CountyArea = values.pop("area")
    since = values.pop("since", None) or _date_in(rng, 1985, 2020)
    department = values.pop("department", "52")
    place = area.name + values.pop("town", "")
    lat, lng = jitter(area, rng)
    row: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "category": category,
        "uscc": make_uscc(f"{department}{region}{_org_code(rng)}"),
        "region_code": region,
        "address": f"{place}{rng.choice(ROADS)}路{rng.randint(1, 300)}号",
        "latitude": lat,
        "longitude": lng,
        "operating_since": since,
        "legal_person": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "contact_phone": f"0{rng.randint(591, 599)}-{rng.randint(2000000, 8999999)}",
        # the 绿色通道 is run by medical institutions only; graded hospitals get theirs in _finish
        "elderly_green_channel": kind != "elderly_care" and rng.random() < 0.5,
    }
    if kind != "elderly_care":
        row["medical_operating_since"] = since
    if kind != "medical":
        row["elderly_care_operating_since"] = since
    row.update(values)
    return Spec(row)


def _residents(rng: random.Random, beds: int, occupancy: float | None = None) -> dict[str, Any]:
    residents = int(beds * (occupancy if occupancy is not None else rng.uniform(0.45, 0.95)))
    levels = [int(residents * share) for share in (0.18, 0.17, 0.14, 0.1)]
    return {
        "residents": residents,
        **{f"disabled_level_{i + 1}": n for i, n in enumerate(levels)},
        "dementia_residents": int(residents * 0.12),
    }


def _hospital(
    name: str,
    region: str,
    rng: random.Random,
    area: CountyArea,
    *,
    grade: str,
    type_: str,
    beds: int,
    **values: Any,
) -> Spec:
    code = {"general": "A100", "tcm": "A210", "nursing_home": "A710", "rehabilitation": "A527"}.get(
        type_, "A100"
    )
    kind = values.pop("kind", "medical")
    defaults: dict[str, Any] = {
        "department": "12",
        "hospital_grade": grade,
        "hospital_type": type_,
        "ownership": "public",
        "ws218_kind_code": code,
        "licence_type": "practice_licence",
        "beds_medical": beds,
        "medical_insurance_designated": True,
        "elderly_friendly_year": 2020 + sum(map(ord, name)) % 5 if rng.random() < 0.6 else None,
        "hospice_care": rng.random() < 0.3,
        "tcm_hall": type_ == "tcm" or rng.random() < 0.3,
        "beds_rehabilitation": beds // 20,
        "beds_hospice": beds // 50 if rng.random() < 0.3 else 0,
    }
    spec = _base(name, region, kind, "hospital", rng=rng, area=area, **{**defaults, **values})
    spec.values["licence_no"] = f"{spec.values['uscc'][8:17]}{region}11{code}1"
    return spec


def county_counts() -> dict[str, int]:
    """Institutions per county, proportional to the demo population (``demo.indicators``, the one
    source of population figures), at least 8; 金门 none."""
    population = {
        row["region_code"]: int(row["residents"])
        for row in indicators_seed.population_rows()
        if row["year"] == indicators_seed.YEARS[0] and row["region_code"] != KINMEN
    }
    total = sum(population.values())
    return {code: max(8, round(TOTAL_INSTITUTIONS * people / total)) for code, people in population.items()}


def _quota(remaining: int) -> dict[str, int]:
    """Split ``remaining`` by SHARES (largest remainder)."""
    exact = {key: remaining * share / sum(SHARES.values()) for key, share in SHARES.items()}
    quota = {key: int(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: exact[k] - quota[k], reverse=True)[
        : remaining - sum(quota.values())
    ]:
        quota[key] += 1
    return quota


def _county(
    area: CountyArea, count: int, towns: list[str], taken: set[str], rng: random.Random
) -> list[Spec]:
    code, county = area.code, area.name
    urban = county.endswith("区")
    short = county[:-1] if len(county) > 2 and county.endswith("县") else county
    words = rng.sample(WORDS, len(WORDS))
    streets = [t for t in towns if t.endswith("街道")]
    rural = [t for t in towns if t.endswith(("镇", "乡"))]
    specs: list[Spec] = []

    def add(spec: Spec) -> None:
        if spec.name not in taken:
            taken.add(spec.name)
            specs.append(spec)

    hospital_name = f"{county}医院" if not county.endswith("县") else f"{short}县医院"
    add(
        _hospital(
            hospital_name,
            code,
            rng,
            area,
            grade="grade_2",
            type_="general",
            beds=rng.randint(200, 600),
            since=_date_in(rng, 1950, 1975),
        )
    )
    for centre_code, name, type_ in CITY_CENTRE_HOSPITALS:
        if centre_code == code:
            add(
                _hospital(
                    name,
                    code,
                    rng,
                    area,
                    grade="grade_3",
                    type_=type_,
                    beds=rng.randint(800, 1800),
                    since=_date_in(rng, 1930, 1965),
                )
            )
    if not urban or count >= 25:
        tcm = (
            f"{short}县中医院"
            if county.endswith("县")
            else f"{county}中医院"
            if not urban
            else f"{county}中医医院"
        )
        add(
            _hospital(
                tcm,
                code,
                rng,
                area,
                grade="grade_2",
                type_="tcm",
                beds=rng.randint(100, 300),
                since=_date_in(rng, 1956, 1990),
            )
        )
    welfare_beds = rng.randint(100, 400)
    add(
        _base(
            f"{county}社会福利中心",
            code,
            "elderly_care",
            "elderly_care_home",
            rng=rng,
            area=area,
            since=_date_in(rng, *SINCE["welfare_center"]),
            department="12",
            ownership="public",
            elderly_care_ownership="public",
            beds_elderly_care=welfare_beds,
            beds_nursing=welfare_beds // 3,
        )
    )
    quota = _quota(max(0, count - len(specs)))
    if code == HULI:
        quota["home"] = max(quota["home"], HULI_FILED_HOMES)
    # primary care: one per township, streets first in a district, towns first in a county
    primary_places = (streets + rural) if urban else (rural + streets)
    for town in primary_places[: quota["primary"]]:
        if town.endswith("街道"):
            add(
                _base(
                    f"{county}{town}社区卫生服务中心",
                    code,
                    "medical",
                    "community_health_center",
                    rng=rng,
                    area=area,
                    town=town,
                    since=_date_in(rng, *SINCE["community_health_center"]),
                    department="12",
                    ownership="public",
                    ws218_kind_code="B100",
                    licence_type="practice_licence",
                    beds_medical=rng.choice([0, 10, 20]),
                    medical_insurance_designated=True,
                    tcm_hall=rng.random() < 0.5,
                )
            )
        else:
            add(
                _base(
                    f"{county}{town}卫生院",
                    code,
                    "medical",
                    "township_health_center",
                    rng=rng,
                    area=area,
                    town=town,
                    since=_date_in(rng, *SINCE["township_health_center"]),
                    department="12",
                    ownership="public",
                    ws218_kind_code=rng.choice(["C210", "C220"]),
                    licence_type="practice_licence",
                    beds_medical=rng.randint(10, 60),
                    medical_insurance_designated=True,
                    tcm_hall=rng.random() < 0.6,
                )
            )
    overflow = max(0, quota["primary"] - len(primary_places))
    villages = [(t, v) for t in rural for v in VILLAGES]
    rng.shuffle(villages)
    for n in range(quota["small_medical"] + overflow):
        if villages and n % 2 == 0:
            town, village = villages.pop()
            add(
                _base(
                    f"{county}{town}{village}村卫生室",
                    code,
                    "medical",
                    "village_clinic",
                    rng=rng,
                    area=area,
                    town=town,
                    since=_date_in(rng, *SINCE["village_clinic"]),
                    ws218_kind_code="D600",
                    licence_type="practice_licence",
                )
            )
        else:
            add(
                _base(
                    f"{county}{words.pop()}诊所",
                    code,
                    "medical",
                    "clinic",
                    rng=rng,
                    area=area,
                    since=_date_in(rng, *SINCE["clinic"]),
                    department="92",
                    ownership="private",
                    ws218_kind_code=rng.choice(["D211", "D212"]),
                    licence_type="filing",
                )
            )
    for _ in range(quota["private_hospital"]):
        draw = rng.random()
        grade = "grade_1" if draw < 0.75 else "ungraded" if draw < 0.97 else "grade_2"
        type_ = "rehabilitation" if rng.random() < 0.15 else "general"
        suffix = "康复医院" if type_ == "rehabilitation" else "医院"
        add(
            _hospital(
                f"{county}{words.pop()}{suffix}",
                code,
                rng,
                area,
                grade=grade,
                type_=type_,
                beds=rng.randint(20, 99) if grade != "grade_2" else rng.randint(100, 250),
                department="92",
                ownership="private",
                medical_insurance_designated=rng.random() < 0.6,
                since=_date_in(rng, *SINCE["private_hospital"]),
            )
        )
    for _ in range(quota["home"]):
        beds = rng.randint(40, 300)
        add(
            _base(
                f"{county}{words.pop()}养老院",
                code,
                "elderly_care",
                "elderly_care_home",
                rng=rng,
                area=area,
                since=_date_in(rng, *SINCE["elderly_care_home"]),
                ownership="private",
                elderly_care_ownership=rng.choice(["private", "private", "public_built_private_run"]),
                beds_elderly_care=beds,
                beds_nursing=beds // 4,
            )
        )
    for town in (rural or streets)[: quota["town_home"]]:
        beds = rng.randint(30, 120)
        add(
            _base(
                f"{county}{town}敬老院",
                code,
                "elderly_care",
                "elderly_care_home",
                rng=rng,
                area=area,
                town=town,
                since=_date_in(rng, *SINCE["nursing_home_public"]),
                department="12",
                ownership="public",
                elderly_care_ownership="public",
                beds_elderly_care=beds,
                beds_nursing=beds // 5,
            )
        )
    for n in range(quota["community"]):
        if villages and (not streets or n % 3 != 2):
            town, village = villages.pop()
            add(
                _base(
                    f"{county}{town}{village}村农村幸福院",
                    code,
                    "elderly_care",
                    "rural_happiness_home",
                    rng=rng,
                    area=area,
                    town=town,
                    since=_date_in(rng, *SINCE["rural_happiness_home"]),
                    department="12",
                    ownership="public",
                    elderly_care_ownership="public",
                    beds_elderly_care=rng.randint(5, 20),
                )
            )
        elif streets:
            town = streets[n % len(streets)]
            add(
                _base(
                    f"{county}{town}日间照料中心",
                    code,
                    "elderly_care",
                    "day_care_center",
                    rng=rng,
                    area=area,
                    town=town,
                    since=_date_in(rng, *SINCE["day_care_center"]),
                    ownership="public",
                    elderly_care_ownership="public_built_private_run",
                    beds_elderly_care=rng.randint(5, 20),
                )
            )
    for n in range(quota["integrated"]):
        beds = rng.randint(150, 450)
        since = _date_in(rng, *SINCE["integrated"])
        if n % 2 == 0:
            add(
                _base(
                    f"{county}{words.pop()}颐养院",
                    code,
                    "integrated",
                    "elderly_care_home",
                    rng=rng,
                    area=area,
                    since=since,
                    integrated_model="elderly_care_runs_medical",
                    ownership="private",
                    elderly_care_ownership="private",
                    ws218_kind_code="D400",
                    licence_type="filing",
                    licence_no=f"YB{code}{since.year + 1}{n:04d}",
                    medical_operating_since=date(since.year + 1, since.month, since.day),
                    beds_elderly_care=beds,
                    beds_medical=rng.choice([0, 10, 20]),
                    beds_nursing=beds // 3,
                )
            )
        else:
            add(
                _hospital(
                    f"{county}{words.pop()}护理院",
                    code,
                    rng,
                    area,
                    grade="ungraded",
                    type_="nursing_home",
                    beds=rng.randint(50, 150),
                    kind="integrated",
                    integrated_model="medical_runs_elderly_care",
                    department="52",
                    ownership="private",
                    since=since,
                    beds_elderly_care=beds,
                )
            )
    return specs


def generated_institutions(rng: random.Random, named: list[Spec] | None = None) -> list[Spec]:
    """Every county's institutions (named ones count toward their county's share)."""
    areas, towns = county_areas(), townships()
    taken = {spec.name for spec in named or []}
    named_per_county: dict[str, int] = {}
    for spec in named or []:
        named_per_county[spec.values["region_code"]] = named_per_county.get(spec.values["region_code"], 0) + 1
    specs: list[Spec] = []
    for code, count in county_counts().items():
        specs += _county(areas[code], count - named_per_county.get(code, 0), towns[code], taken, rng)
    return specs


@dataclass(frozen=True)
class PlannedFiling:
    """A 内设医疗机构 filing of an elderly-care home: accepted on ``accepted``, or revoked later."""

    institution: str
    unit_kind: UnitKind
    accepted: date
    revoked: bool = False


UNIT_SUFFIX: Final = {
    UnitKind.infirmary: "医务室",
    UnitKind.nursing_station: "护理站",
    UnitKind.clinic: "诊所",
}
NAMED_FILINGS: Final = (
    PlannedFiling("兰馨颐养院", UnitKind.infirmary, date(2019, 3, 1)),
    PlannedFiling("福州市社会福利院", UnitKind.infirmary, date(2005, 6, 1)),
)


def _beds(values: dict[str, Any]) -> int:
    return int(values.get("beds_medical") or 0) + int(values.get("beds_elderly_care") or 0)


def finish(named: list[Spec], generated: list[Spec], rng: random.Random) -> list[PlannedFiling]:
    """Decide the province-wide figures on the generated institutions so that the aggregates match the
    source documents: the 医养结合 set (count and beds), filings, 绿色通道, home beds, 互联网+护理."""
    everything = named + generated
    homes = [
        s
        for s in generated
        if s.values["kind"] == "elderly_care"
        and s.values["category"] == "elderly_care_home"
        and s.values.get("ownership") == "private"
    ]
    huli_homes = [s for s in homes if s.values["region_code"] == HULI]
    other_homes = [s for s in homes if s.values["region_code"] != HULI]
    filed_huli = huli_homes[: HULI_FILED_HOMES - 1]  # 兰馨颐养院 is the ninth
    township = [s for s in generated if s.values["category"] == "township_health_center"]
    with_beds = rng.sample(township, min(TOWNSHIP_WITH_ELDERLY_BEDS, len(township)))
    integrated_kind = [s for s in everything if s.values["kind"] == "integrated"]
    named_filed = len(NAMED_FILINGS)
    others = INTEGRATED_TARGET - len(integrated_kind) - named_filed - len(filed_huli) - len(with_beds)
    filed_others = rng.sample(other_homes, max(0, min(others, len(other_homes) - 1)))
    revoked_home = next(s for s in other_homes if s not in filed_others)
    for spec in with_beds:
        elderly = rng.randint(20, 60)
        spec.values.update(
            beds_elderly_care=elderly,
            beds_nursing=elderly // 2,
            elderly_care_operating_since=date(max(2013, spec.values["operating_since"].year), 6, 1),
        )
    # scale the generated 医养结合 institutions' elderly-care beds so the set's beds meet the target
    generated_set = [s for s in generated if s.values["kind"] == "integrated"] + filed_huli + filed_others
    fixed = sum(
        _beds(s.values)
        for s in named
        if s.values["kind"] == "integrated" or s.name in {f.institution for f in NAMED_FILINGS}
    ) + sum(_beds(s.values) for s in with_beds)
    scaled = sum(int(s.values["beds_elderly_care"]) for s in generated_set)
    medical = sum(int(s.values.get("beds_medical") or 0) for s in generated_set)
    factor = (INTEGRATED_BEDS_TARGET - fixed - medical) / scaled if scaled else 1.0
    for spec in generated_set:
        beds = max(20, round(spec.values["beds_elderly_care"] * factor))
        spec.values.update(beds_elderly_care=beds, beds_nursing=beds // 3)
        if spec.values["kind"] == "integrated":
            spec.values["beds_integrated"] = int(beds * rng.uniform(0.5, 0.8))
    for spec in generated:
        values = spec.values
        if values["kind"] != "medical" and values["category"] == "elderly_care_home":
            values.update(_residents(rng, int(values["beds_elderly_care"])))
    # filings: 湖里's homes get a 医务室; elsewhere 医务室, 护理站 or 诊所; each after the home opened
    filings = list(NAMED_FILINGS)
    for n, spec in enumerate(filed_huli + filed_others):
        unit = UnitKind.infirmary if spec in filed_huli else list(UNIT_SUFFIX)[n % 3]
        opened: date = spec.values["operating_since"]
        accepted = _date_in(rng, max(2015, opened.year + 1), 2023)
        spec.values["medical_operating_since"] = accepted
        filings.append(PlannedFiling(spec.name, unit, accepted))
    filings.append(
        PlannedFiling(revoked_home.name, UnitKind.nursing_station, date(2021, 5, 10), revoked=True)
    )
    # 绿色通道: 98.8 % of graded (一级 and above) medical institutions, never an elderly-care-only one
    graded = [s for s in everything if s.values.get("hospital_grade") in ("grade_1", "grade_2", "grade_3")]
    without = set(rng.sample(range(len(graded)), round(len(graded) * (1 - GREEN_CHANNEL_SHARE))))
    for n, spec in enumerate(graded):
        spec.values["elderly_green_channel"] = n not in without
    # 家庭病床: 269 medical institutions (kind medical: hospitals, 卫生院, 社区卫生服务中心 — the homecare
    # demo's home-bed providers are exactly these), at least one a county (a 卫生院 or 社区卫生服务中心 first)
    medical_side = [s for s in everything if s.values["kind"] != "elderly_care"]
    for spec in medical_side:
        spec.values["home_bed_service"] = False
    bed_side = [
        s
        for s in medical_side
        if s.values["kind"] == "medical" and s.values["category"] in HOME_BED_CATEGORIES
    ]
    chosen = [s for s in named if s.name in ("厦门新开元医院", "晋江市中医院")]
    primary = [
        s for s in generated if s.values["category"] in ("township_health_center", "community_health_center")
    ]
    for code in sorted({s.values["region_code"] for s in generated}):
        firsts = [s for s in primary if s.values["region_code"] == code] or [
            s for s in bed_side if s.values["region_code"] == code
        ]
        chosen.append(firsts[0])
    huli_primary = [s for s in primary if s.values["region_code"] == HULI and s not in chosen]
    chosen += huli_primary  # 湖里 reports 296 home beds: every 社区卫生服务中心 there takes part
    pool = [s for s in bed_side if s not in chosen]
    chosen += rng.sample(pool, HOME_BED_PROVIDERS - len(chosen))
    for spec in chosen:
        spec.values["home_bed_service"] = True
    # 互联网+护理服务: 33 flagged providers, the named two and the larger public hospitals
    for spec in everything:
        spec.values["internet_nursing_provider"] = spec.name in ("厦门新开元医院", "厦门莲花医院")
    big = [
        s
        for s in generated
        if s.values.get("hospital_grade") in ("grade_2", "grade_3") and s.values.get("ownership") == "public"
    ]
    for spec in rng.sample(big, INTERNET_NURSING_PROVIDERS - 2):
        spec.values["internet_nursing_provider"] = True
    return filings


def province(rng: random.Random) -> tuple[list[Spec], list[PlannedFiling]]:
    """The whole demo province: institutions (named first) and the filings to seed."""
    named = named_institutions(rng)
    generated = generated_institutions(rng, named)
    filings = finish(named, generated, rng)
    return named + generated, filings


def named_institutions(rng: random.Random) -> list[Spec]:
    areas = county_areas()
    xm_huli, xm_siming = areas["350206"], areas["350203"]
    lanxin = _base(
        "兰馨颐养院",
        "350206",
        "elderly_care",
        "elderly_care_home",
        rng=rng,
        area=xm_huli,
        since=date(2016, 5, 1),
        ownership="private",
        elderly_care_ownership="private",
        medical_operating_since=date(2019, 3, 1),
        beds_elderly_care=260,
        beds_nursing=120,
        **_residents(rng, 260, 0.62),
    )
    lanxin.values.update(latitude=24.5208, longitude=118.1562)
    xinkaiyuan = _hospital(
        "厦门新开元医院",
        "350206",
        rng,
        xm_huli,
        grade="grade_2",
        type_="general",
        beds=400,
        department="91",
        ownership="private",
        internet_nursing_provider=True,
        home_bed_service=True,
        since=date(2003, 9, 1),
    )
    xinkaiyuan.values.update(latitude=24.4953, longitude=118.1257, ownership="private")
    lianhua = _hospital(
        "厦门莲花医院",
        "350203",
        rng,
        xm_siming,
        grade="grade_2",
        type_="general",
        beds=300,
        department="91",
        internet_nursing_provider=True,
        since=date(2005, 6, 1),
    )
    lianhua.values.update(latitude=24.4869, longitude=118.1252, ownership="private")
    hongai = _base(
        "厦门弘爱养护院",
        "350206",
        "integrated",
        "elderly_care_home",
        rng=rng,
        area=xm_huli,
        since=date(2017, 1, 1),
        integrated_model="elderly_care_runs_medical",
        ownership="private",
        elderly_care_ownership="private",
        medical_operating_since=date(2018, 1, 1),
        ws218_kind_code="A710",
        licence_type="practice_licence",
        beds_elderly_care=600,
        beds_integrated=500,
        beds_medical=99,
        beds_nursing=300,
        beds_hospice=20,
        hospice_care=True,
        **_residents(rng, 600, 0.82),
    )
    hongai.values.update(
        latitude=24.5302, longitude=118.1874, licence_no=f"{hongai.values['uscc'][8:17]}35020621A7102"
    )
    lotus_care = _hospital(
        "厦门市莲花爱心护理院",
        "350203",
        rng,
        xm_siming,
        grade="ungraded",
        type_="nursing_home",
        beds=150,
        kind="integrated",
        integrated_model="medical_runs_elderly_care",
        department="52",
        since=date(2012, 10, 1),
        beds_elderly_care=200,
        beds_integrated=180,
        hospice_care=True,
        beds_hospice=12,
    )
    lotus_care.values.update(
        latitude=24.4811, longitude=118.1198, ownership="private", **_residents(rng, 200, 0.86)
    )
    fuzhou_welfare = _base(
        "福州市社会福利院",
        "350104",
        "elderly_care",
        "elderly_care_home",
        rng=rng,
        area=areas["350104"],
        since=date(1958, 1, 1),
        department="12",
        ownership="public",
        elderly_care_ownership="public",
        # its medical side: a 医务室 filed (accepted) in 2005, with beds (named in the first 示范 batch)
        medical_operating_since=date(2005, 6, 1),
        beds_elderly_care=800,
        beds_medical=20,
        beds_nursing=400,
        **_residents(rng, 800, 0.9),
    )
    fuzhou_welfare.values.update(latitude=26.0297, longitude=119.3008)
    jinjiang_tcm = _hospital(
        "晋江市中医院",
        "350582",
        rng,
        areas["350582"],
        grade="grade_3",
        type_="tcm",
        beds=800,
        since=date(1956, 3, 1),
        tcm_hall=True,
        home_bed_service=True,
    )
    jinjiang_tcm.values.update(latitude=24.8022, longitude=118.5823)
    return [lanxin, xinkaiyuan, lianhua, hongai, lotus_care, fuzhou_welfare, jinjiang_tcm]


NAMED_PRACTITIONERS: Final = (
    # name, institution, kind, title, years
    ("林晓燕", "厦门新开元医院", "nurse", "supervising_nurse", 8),
    ("陈美玲", "厦门莲花医院", "nurse", "senior_nurse", 6),
    ("王丽", "厦门新开元医院", "nurse", "nurse", 2),
    ("张建国", "厦门新开元医院", "doctor", "attending_physician", 12),
    ("黄秀英", "厦门新开元医院", "nurse", "associate_chief_nurse", 19),
    ("郑淑芬", "厦门新开元医院", "nurse", "chief_nurse", 26),
    ("吴雅婷", "厦门新开元医院", "nurse", "senior_nurse", 4),
    ("蔡海燕", "厦门莲花医院", "nurse", "supervising_nurse", 11),
    ("许婉清", "厦门莲花医院", "nurse", "nurse", 1),
    ("叶慧敏", "厦门市莲花爱心护理院", "nurse", "senior_nurse", 7),
    ("苏丽华", "厦门弘爱养护院", "carer", None, 5),
    ("何国平", "晋江市中医院", "doctor", "chief_physician", 30),
)


def _practitioner_record(
    pid: uuid.UUID,
    name: str,
    institution: dict[str, Any],
    kind: str,
    title: str | None,
    years: int,
    rng: random.Random,
) -> dict[str, Any]:
    """A practitioner as a record of ``POST /practitioners/bulk`` (keyed by its demo id)."""
    birth = date(2026 - 22 - years - rng.randint(0, 5), rng.randint(1, 12), rng.randint(1, 28))
    id_card = make_id_card(f"{institution['region_code']}{birth:%Y%m%d}{rng.randint(100, 999)}")
    phone = f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}"
    trainings = []
    if kind == "nurse" and years >= 5:
        trainings.append(
            {
                "name": "互联网+护理服务上门护士岗前培训",
                "certificate_no": f"HL{rng.randint(10000, 99999)}",
                "issued_date": "2023-06-30",
                "item_codes": ["HC01", "HC02", "HC05", "HC06", "HC17"],
            }
        )
        if rng.random() < 0.5:
            trainings.append(
                {
                    "name": "PICC 维护专科护士培训",
                    "certificate_no": f"PX{rng.randint(1000, 9999)}",
                    "issued_date": "2024-03-15",
                    "item_codes": ["HC16", "HC18"],
                }
            )
    if kind == "carer":
        trainings.append(
            {
                "name": "医疗护理员培训合格证书",
                "certificate_no": f"HLY{rng.randint(1000, 9999)}",
                "issued_date": "2022-09-01",
                "item_codes": [],
            }
        )
    return {
        "external_id": str(pid),
        "institution_id": institution["id"],
        "name": name,
        "kind": kind,
        "title": title,
        "practice_certificate_no": None
        if kind == "carer"
        else f"{rng.randint(2000, 2024)}{rng.randint(10**7, 10**8 - 1)}",
        "clinical_years": years,
        "id_number": id_card,
        "phone": phone,
        "trainings": trainings,
        "misconduct_recorded": False,
        "active": True,
    }


#: who writes the demo province: a province-level administrator (the bulk writer's rules apply to it)
SEEDER: Final = Principal(sub="demo-seed", role=Role.province_admin, region_code=PROVINCE_CODE)
#: the demo's records are keyed in the registry by (source_system, external_id) like a city platform's
SOURCE_SYSTEM: Final = "demo"


@dataclass
class _DemoCandidate(Candidate):
    """A demo institution in the bulk writer: created under its demo id, the id every service's seed and
    the gateway's accounts name it by (a city platform's record gets a new id instead)."""

    demo_id: uuid.UUID | None = None

    def written(
        self,
        outcome: BulkOutcome,
        *,
        id: uuid.UUID,  # noqa: A002  (the protocol's name)
        version: int | None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        if outcome is BulkOutcome.created and self.demo_id is not None:
            id = self.demo_id  # noqa: A001
        super().written(outcome, id=id, version=version, changes=changes)


async def write_institutions(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    specs: list[Spec],
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> list[uuid.UUID]:
    """Write ``specs`` through the registry's bulk writer (``services.registry.institutions.batch_write``,
    the steps of ``POST /institutions/bulk``: the rules of ``POST /institutions`` for each record, USCC
    owners, duplicates, audit records and change-feed entries), in batches of ``max_records``, as
    :data:`SEEDER` with source system ``demo``. Every record must be created; a rejected one (or one
    found already keyed) raises :class:`SeedRejected` naming it and its code. Returns the ids created."""
    created: list[uuid.UUID] = []
    for start in range(0, len(specs), max_records):
        chunk = specs[start : start + max_records]
        records = [{"external_id": str(demo_id("institution", s.name)), **s.values} for s in chunk]
        batch = open_batch(SOURCE_SYSTEM, records, max_records=max_records)
        candidates: list[Candidate] = []
        for record, spec in zip(batch.records, chunk, strict=True):
            raw = {k: v for k, v in record.raw.items() if k not in ("external_id", "source_system")}
            candidate: Candidate = _DemoCandidate(
                index=record.index,
                external_id=record.external_id,
                raw=raw,
                label=spec.name,
                key=record.external_id,
                demo_id=demo_id("institution", spec.name),
            )
            if record.rejected:
                candidate.reject(record.code or "", record.detail or "", record.errors)
            candidates.append(candidate)
        batch.records[:] = candidates
        batch_write.validate(candidates, SEEDER)
        keys = [(SOURCE_SYSTEM, c.key) for c in candidates if not c.rejected]
        existing = await batch_write.load_existing(session, batch_write.key_condition_source, keys)
        by_key = {row["external_id"]: row for row in existing}
        for candidate in candidates:
            row = None if candidate.rejected else by_key.get(candidate.key)
            if row is not None:
                candidate.existing = row
                candidate.id = row["id"]
        batch_write.merge_existing(candidates, SEEDER, cipher)
        batch_write.reject_duplicates(candidates, lambda c: c.data.uscc if c.data else None, "uscc")
        await batch_write.check_uscc_owners(session, candidates)
        await batch_write.write(
            session,
            SEEDER,
            candidates,
            cipher=cipher,
            action="bulk_upsert",
            extra_columns=lambda c: {"source_system": SOURCE_SYSTEM, "external_id": c.key},
        )
        response = batch.response()
        refused = [
            (spec.name, result)
            for spec, result in zip(chunk, response.results, strict=True)
            if result.outcome is not BulkOutcome.created
        ]
        if refused:
            raise SeedRejected(refused, rules="登记")
        created += [result.id for result in response.results if result.id is not None]
    return created


def _demo_id(record: BulkRecord[Any]) -> uuid.UUID:
    """A demo record is created under its demo id, its ``external_id`` (the id every service's seed and
    the gateway's accounts name it by; a city platform's record gets a new id instead)."""
    return uuid.UUID(record.external_id)


def _all_created(answer: BulkResponse, names: list[str]) -> None:
    """Every demo record must be created: one refused (or found already keyed) stops the seed."""
    refused = [
        (name, result)
        for name, result in zip(names, answer.results, strict=True)
        if result.outcome is not BulkOutcome.created
    ]
    if refused:
        raise SeedRejected(refused, rules="登记")


async def seed_session(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    *,
    today: date | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> dict[str, int]:
    """Insert what is missing; returns how many rows of each kind were added."""
    today = today or date.today()
    rng = random.Random(350000)
    now = utcnow()
    specs, filings = province(rng)
    existing = set((await session.scalars(select(Institution.id))).all())
    # what exists is kept as it is (a demo institution edited since is not overwritten); the rest goes
    # through the registry's bulk writer, which must create every one of them
    wanted = [spec for spec in specs if demo_id("institution", spec.name) not in existing]
    created = await write_institutions(session, cipher, wanted, max_records=max_records)
    by_name: dict[str, dict[str, Any]] = {}
    for spec in specs:
        data = InstitutionCreate.model_validate(spec.values)
        by_name[spec.name] = {"id": demo_id("institution", spec.name), **data.model_dump()}
    institution_rows = [by_name[spec.name] for spec in wanted]
    new_ids = set(created)
    # filings: the 内设医疗机构 (医务室, 护理站, 诊所) of elderly-care homes, accepted on their date; one
    # revoked after a site check, its history kept — through the history import of POST /filings/bulk
    filing_records: list[dict[str, Any]] = []
    for n, planned in enumerate(filings):
        institution = by_name[planned.institution]
        if institution["id"] not in new_ids:
            continue
        unit = planned.unit_kind
        accepted_at = datetime.combine(planned.accepted, time(2, 0), tzinfo=UTC)
        reason = "现场核查：医师执业地点未变更" if planned.revoked else None
        filing_records.append(
            {
                "external_id": str(demo_id("filing", institution["name"])),
                "institution_id": institution["id"],
                "unit_kind": unit,
                "unit_name": institution["name"] + UNIT_SUFFIX[unit],
                "person_in_charge": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "doctors": 1 + n % 2,
                "nurses": 2 + n % 3,
                "service_scope": "常见病诊疗、慢病管理、康复护理",
                "documents": ["application_form", "premises_proof", "staff_qualifications", "rules"],
                "state": FilingState.revoked if planned.revoked else FilingState.accepted,
                "filing_no": f"YB{institution['region_code']}{planned.accepted.year}{n:06d}",
                "accepted_at": accepted_at,
                "revoked_at": accepted_at + timedelta(days=200) if planned.revoked else None,
                "revoke_reason": reason,
            }
        )
    for start in range(0, len(filing_records), max_records):
        chunk = filing_records[start : start + max_records]
        request = FilingBulkRequest(source_system=SOURCE_SYSTEM, records=chunk)
        answer = await filings_bulk.import_history(
            session, SEEDER, request, now=now, max_records=max_records, new_id=_demo_id
        )
        _all_created(answer, [f"{r['unit_name']}（备案）" for r in chunk])

    # year figures for the last three years of every elderly-care and integrated institution
    names = {row["id"]: row["name"] for row in institution_rows}
    stat_records: list[dict[str, Any]] = []
    for row in institution_rows:
        if row["kind"] == "medical" or not row.get("residents"):
            continue
        beds = row["beds_elderly_care"] or 1
        base_occupancy = row["residents"] / beds
        for year in range(today.year - 3, today.year):
            days = 366 if year % 4 == 0 else 365
            occupancy = min(0.98, max(0.2, base_occupancy + rng.uniform(-0.04, 0.04)))
            residents = int(beds * occupancy)
            disabled = (
                int(residents * rng.uniform(0.5, 0.8))
                if row["name"] != "兰馨颐养院"
                else int(residents * 0.7)
            )
            dementia = int(residents * 0.15)
            stat_records.append(
                {
                    "external_id": f"{row['id']}:{year}",
                    "institution_id": row["id"],
                    "year": year,
                    "operating_beds": beds,
                    "occupied_bed_days": int(beds * occupancy * days),
                    "residents": residents,
                    "disabled_residents": disabled,
                    "dementia_residents": dementia,
                    "disabled_or_dementia_residents": min(residents, disabled + dementia // 2),
                }
            )
    # through POST /institutions/year-stats/bulk's code (the PUT's rules, audit, feed)
    for start in range(0, len(stat_records), max_records):
        chunk = stat_records[start : start + max_records]
        answer = await year_stats_bulk.upsert(
            session,
            SEEDER,
            YearStatBulkRequest(source_system=SOURCE_SYSTEM, records=chunk),
            today=today,
            max_records=max_records,
        )
        _all_created(answer, [f"{names[r['institution_id']]} {r['year']} 年统计" for r in chunk])

    # practitioners: the named ones, nurses of every title with a doctor at each hospital, a doctor at each
    # other home-bed provider; every row is generated at every run (each from its own random stream) and
    # only the missing ones are written
    existing_people = set((await session.scalars(select(Practitioner.id))).all())
    people: list[dict[str, Any]] = []
    for name, institution_name, kind, title, years in NAMED_PRACTITIONERS:
        person_rng = random.Random(f"practitioner:{name}")
        pid = demo_id("practitioner", name)
        people.append(
            _practitioner_record(pid, name, by_name[institution_name], kind, title, years, person_rng)
        )
    hospitals = [r for r in by_name.values() if r["category"] in ("hospital", "community_health_center")]
    for institution in hospitals:
        staff_rng = random.Random(f"staff:{institution['name']}")
        for i in range(3):
            title = staff_rng.choice(NURSE_TITLES)
            low, high = {"nurse": (0, 4), "senior_nurse": (3, 9)}.get(title, (8, 30))
            years = staff_rng.randint(low, high)
            name = staff_rng.choice(SURNAMES) + staff_rng.choice(GIVEN)
            pid = demo_id("practitioner", f"{institution['name']}:{i}:{name}")
            people.append(_practitioner_record(pid, name, institution, "nurse", title, years, staff_rng))
        name = staff_rng.choice(SURNAMES) + staff_rng.choice(GIVEN)
        pid = demo_id("practitioner", f"{institution['name']}:doctor:{name}")
        doctor_title, doctor_years = staff_rng.choice(DOCTOR_TITLES), staff_rng.randint(3, 30)
        people.append(
            _practitioner_record(pid, name, institution, "doctor", doctor_title, doctor_years, staff_rng)
        )
    # a 家庭病床 is assessed and opened by a doctor of its provider (rules.md): the other institutions
    # that run home beds (乡镇卫生院 mostly) get their doctor too
    staffed = {r["id"] for r in hospitals}
    for institution in by_name.values():
        if not institution.get("home_bed_service") or institution["id"] in staffed:
            continue
        staff_rng = random.Random(f"bed-doctor:{institution['name']}")
        name = staff_rng.choice(SURNAMES) + staff_rng.choice(GIVEN)
        pid = demo_id("practitioner", f"{institution['name']}:doctor:{name}")
        doctor_title, doctor_years = staff_rng.choice(DOCTOR_TITLES), staff_rng.randint(3, 30)
        people.append(
            _practitioner_record(pid, name, institution, "doctor", doctor_title, doctor_years, staff_rng)
        )
    people = [row for row in people if uuid.UUID(row["external_id"]) not in existing_people]
    # through POST /practitioners/bulk's code (the single create's rules, encryption, audit, feed)
    for start in range(0, len(people), max_records):
        chunk = people[start : start + max_records]
        answer = await practitioners_bulk.upsert(
            session,
            SEEDER,
            PractitionerBulkRequest(source_system=SOURCE_SYSTEM, records=chunk),
            cipher=cipher,
            max_records=max_records,
            new_id=_demo_id,
        )
        _all_created(answer, [f"{r['name']}（执业人员）" for r in chunk])
    return {
        "institutions": len(institution_rows),
        "filings": len(filing_records),
        "year_stats": len(stat_records),
        "practitioners": len(people),
    }


async def seed(settings: RegistrySettings) -> None:
    refuse_in_production(settings)
    database = Database(settings)
    try:
        async with session_scope(database) as session:
            added = await seed_session(session, personal_data_cipher(settings))
            await session.flush()
            added["demonstration_batches"] = int(await demonstration_seed.seed_session(session, settings))
            await session.flush()
            await changes.write_pending_changes(session)
        print("registry seed:", ", ".join(f"{k} +{v}" for k, v in added.items()))  # noqa: T201
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(seed(RegistrySettings()))
