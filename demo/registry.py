"""Demo data of the registry: a believable province.

Every county has its hospitals, township health centres or community health centres, village clinics,
a public welfare centre, private elderly-care homes, 农村幸福院 or day-care centres and a few 医养结合
institutions (about 1,400 in all), placed around the county seat (``demo/data/county_seats.csv``), with
valid USCCs; the named institutions and practitioners of the briefing have their demo ids
(``demo_id("institution", name)``); nurses of every title; year figures for the last three years; some
备案 filings. Generated with a fixed random seed, written with bulk INSERTs, idempotent (what exists is
skipped). 金门县 (350527, Taiwan-administered) gets no institutions.

Run: ``python -m demo.registry``.
"""

from __future__ import annotations

import asyncio
import csv
import random
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from demo import demonstration as demonstration_seed
from libs.common import changes, divisions
from libs.common.database import Database, session_scope
from libs.common.identifiers import id_number_check_char, uscc_check_char
from libs.common.keys import personal_data_cipher
from libs.common.models import utcnow
from libs.common.personal_data import PersonalDataCipher
from services.registry import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.registry.filings.models import Filing, FilingEvent, FilingState, UnitKind
from services.registry.institutions.models import Institution, InstitutionYearStat
from services.registry.institutions.schemas import InstitutionCreate
from services.registry.practitioners.models import Practitioner
from services.registry.settings import RegistrySettings

KINMEN: Final = "350527"
SEATS_FILE: Final = Path(__file__).parent / "data" / "county_seats.csv"


def make_uscc(first17: str) -> str:
    """Append the GB 32100 check character to 17 characters."""
    return first17 + uscc_check_char(first17)


def make_id_card(first17: str) -> str:
    """Append the GB 11643 check character to 17 digits."""
    return first17 + id_number_check_char(first17)


def _org_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return "".join(rng.choice(alphabet) for _ in range(9))


def county_seats() -> dict[str, tuple[float, float]]:
    with SEATS_FILE.open(encoding="utf-8") as handle:
        return {row["code"]: (float(row["lat"]), float(row["lng"])) for row in csv.DictReader(handle)}


TOWNS: Final = (
    "城关 东山 西园 南岭 北溪 龙江 凤山 青云 白沙 玉屏 金峰 桃源 梅林 竹坪 石门 洋中 坂头 溪口 官庄 新桥 "
    "大洋 上坪 下洋 湖头 岭头 后埔 前亭 山美 长坑 黄田"
).split()
VILLAGES: Final = "前村 后洋 东坑 西林 下坂 上厝 林边 溪头 田中 坑口 岭下 洋尾".split()
HOME_WORDS: Final = "康乐 福寿 松鹤 夕阳红 颐和 安康 椿萱 乐龄 康宁 福泰 如意 长青 寿山 怡园".split()
SURNAMES: Final = "林 陈 黄 张 吴 王 郑 李 刘 蔡 杨 许 叶 曾 周 谢 何 苏 邱 游".split()
GIVEN: Final = (
    "晓燕 美玲 丽 建国 秀英 志强 雅婷 丽华 文斌 淑芬 海燕 国平 思琪 宏伟 婉清 伟明 慧敏 俊杰".split()
)
NURSE_TITLES: Final = ("nurse", "senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse")
DOCTOR_TITLES: Final = ("physician", "attending_physician", "associate_chief_physician", "chief_physician")


@dataclass
class Spec:
    """One institution to seed: its column values (without id/bookkeeping)."""

    values: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.values["name"])


def _base(name: str, region: str, kind: str, category: str, *, rng: random.Random, **values: Any) -> Spec:
    seat = values.pop("seat")
    county = divisions.get(region)
    county_name = county.name if county else ""
    spread = 0.03 if county_name.endswith("区") else 0.12
    since = values.pop("since", date(rng.randint(1985, 2020), rng.randint(1, 12), rng.randint(1, 28)))
    department = values.pop("department", "52")
    row: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "category": category,
        "uscc": make_uscc(f"{department}{region}{_org_code(rng)}"),
        "region_code": region,
        "address": f"{county_name}{rng.choice(TOWNS)}路{rng.randint(1, 300)}号",
        "lat": round(seat[0] + rng.uniform(-spread, spread), 5),
        "lng": round(seat[1] + rng.uniform(-spread, spread), 5),
        "operating_since": since,
        "legal_person": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "contact_phone": f"0{rng.randint(591, 599)}-{rng.randint(2000000, 8999999)}",
        # run by medical (and 医养结合) institutions, never a pure elderly-care home; same draws as before
        "elderly_green_channel": kind == "integrated" or (kind == "medical" and rng.random() < 0.8),
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
    seat: tuple[float, float],
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
        # recognised with a year from 2020 to 2024 (no extra draw, so the rest of the demo is unchanged)
        "elderly_friendly_year": 2020 + sum(map(ord, name)) % 5 if rng.random() < 0.6 else None,
        "hospice_care": rng.random() < 0.3,
        "home_bed_service": rng.random() < 0.35,
        "tcm_hall": type_ == "tcm" or rng.random() < 0.3,
        "beds_rehabilitation": beds // 20,
        "beds_hospice": beds // 50 if rng.random() < 0.3 else 0,
    }
    spec = _base(name, region, kind, "hospital", rng=rng, seat=seat, **{**defaults, **values})
    spec.values["licence_no"] = f"{spec.values['uscc'][8:17]}{region}11{code}1"
    return spec


def generated_institutions(rng: random.Random) -> list[Spec]:
    seats = county_seats()
    specs: list[Spec] = []
    for division in divisions.all_divisions():
        if division.level is not divisions.DivisionLevel.county or division.code == KINMEN:
            continue
        code, county = division.code, division.name
        seat = seats[code]
        urban = county.endswith("区")
        towns = rng.sample(TOWNS, 8)
        short = county[:-1] if len(county) > 2 else county
        specs.append(
            _hospital(
                f"{county}医院" if urban else f"{short}县医院" if county.endswith("县") else f"{county}医院",
                code,
                rng,
                seat,
                grade="grade_2",
                type_="general",
                beds=rng.randint(200, 600),
                internet_nursing_provider=rng.random() < 0.4,
            )
        )
        if not urban or rng.random() < 0.4:
            specs.append(
                _hospital(
                    f"{short}中医院" if not urban else f"{county}中医医院",
                    code,
                    rng,
                    seat,
                    grade="grade_2",
                    type_="tcm",
                    beds=rng.randint(100, 300),
                )
            )
        if urban:
            for town in towns[: rng.randint(2, 4)]:
                specs.append(
                    _base(
                        f"{county}{town}街道社区卫生服务中心",
                        code,
                        "medical",
                        "community_health_center",
                        rng=rng,
                        seat=seat,
                        department="12",
                        ownership="public",
                        ws218_kind_code="B100",
                        licence_type="practice_licence",
                        beds_medical=rng.choice([0, 10, 20]),
                        medical_insurance_designated=True,
                        home_bed_service=rng.random() < 0.3,
                        tcm_hall=rng.random() < 0.5,
                    )
                )
            for town in towns[4 : 4 + rng.randint(0, 2)]:
                specs.append(
                    _base(
                        f"{county}{town}社区卫生服务站",
                        code,
                        "medical",
                        "community_health_station",
                        rng=rng,
                        seat=seat,
                        department="12",
                        ownership="public",
                        ws218_kind_code="B200",
                        licence_type="practice_licence",
                    )
                )
        else:
            for town in towns[: rng.randint(4, 7)]:
                specs.append(
                    _base(
                        f"{county}{town}镇卫生院",
                        code,
                        "medical",
                        "township_health_center",
                        rng=rng,
                        seat=seat,
                        department="12",
                        ownership="public",
                        ws218_kind_code=rng.choice(["C210", "C220"]),
                        licence_type="practice_licence",
                        beds_medical=rng.randint(10, 60),
                        medical_insurance_designated=True,
                        home_bed_service=rng.random() < 0.2,
                        tcm_hall=rng.random() < 0.6,
                    )
                )
            for town, village in zip(towns[: rng.randint(2, 4)], rng.sample(VILLAGES, 6), strict=False):
                specs.append(
                    _base(
                        f"{county}{town}镇{village}村卫生室",
                        code,
                        "medical",
                        "village_clinic",
                        rng=rng,
                        seat=seat,
                        department="52",
                        ws218_kind_code="D600",
                        licence_type="practice_licence",
                    )
                )
        beds = rng.randint(100, 400)
        specs.append(
            _base(
                f"{short}社会福利中心" if not urban else f"{county}社会福利中心",
                code,
                "elderly_care",
                "elderly_care_home",
                rng=rng,
                seat=seat,
                department="12",
                ownership="public",
                elderly_care_ownership="public",
                beds_elderly_care=beds,
                beds_nursing=beds // 3,
                **_residents(rng, beds),
            )
        )
        for word in rng.sample(HOME_WORDS, rng.randint(2, 5)):
            beds = rng.randint(40, 300)
            specs.append(
                _base(
                    f"{county}{word}养老院",
                    code,
                    "elderly_care",
                    "elderly_care_home",
                    rng=rng,
                    seat=seat,
                    ownership="private",
                    elderly_care_ownership=rng.choice(["private", "private", "public_built_private_run"]),
                    beds_elderly_care=beds,
                    beds_nursing=beds // 4,
                    **_residents(rng, beds),
                )
            )
        if urban:
            for town in towns[2 : 2 + rng.randint(1, 3)]:
                specs.append(
                    _base(
                        f"{county}{town}街道日间照料中心",
                        code,
                        "elderly_care",
                        "day_care_center",
                        rng=rng,
                        seat=seat,
                        ownership="public",
                        elderly_care_ownership="public_built_private_run",
                        beds_elderly_care=rng.randint(5, 20),
                    )
                )
        else:
            for town, village in zip(towns[: rng.randint(2, 5)], rng.sample(VILLAGES, 6), strict=False):
                specs.append(
                    _base(
                        f"{county}{town}镇{village}村农村幸福院",
                        code,
                        "elderly_care",
                        "rural_happiness_home",
                        rng=rng,
                        seat=seat,
                        department="12",
                        ownership="public",
                        elderly_care_ownership="public",
                        beds_elderly_care=rng.randint(5, 20),
                    )
                )
        for n in range(rng.randint(1, 3)):
            beds = rng.randint(80, 400)
            integrated_beds = int(beds * rng.uniform(0.4, 0.8))
            if n % 2 == 0:
                specs.append(
                    _base(
                        f"{county}{rng.choice(HOME_WORDS)}医养结合中心" + ("" if n == 0 else str(n + 1)),
                        code,
                        "integrated",
                        "elderly_care_home",
                        rng=rng,
                        seat=seat,
                        integrated_model="elderly_care_runs_medical",
                        ownership="private",
                        elderly_care_ownership="private",
                        ws218_kind_code="D400",
                        licence_type="filing",
                        licence_no=f"YB{code}{rng.randint(2015, 2023)}{n:04d}",
                        beds_elderly_care=beds,
                        beds_integrated=integrated_beds,
                        beds_medical=rng.choice([0, 10, 20]),
                        beds_nursing=beds // 3,
                        **_residents(rng, beds),
                    )
                )
            else:
                spec = _hospital(
                    f"{county}护理院" + ("" if n == 1 else str(n)),
                    code,
                    rng,
                    seat,
                    grade="ungraded",
                    type_="nursing_home",
                    beds=rng.randint(50, 150),
                    kind="integrated",
                    integrated_model="medical_runs_elderly_care",
                    beds_elderly_care=beds,
                    beds_integrated=integrated_beds,
                )
                spec.values.update(_residents(rng, beds))
                specs.append(spec)
    return specs


def named_institutions(rng: random.Random) -> list[Spec]:
    xm_huli, xm_siming = (24.513, 118.146), (24.445, 118.082)
    lanxin = _base(
        "兰馨颐养院",
        "350206",
        "elderly_care",
        "elderly_care_home",
        rng=rng,
        seat=xm_huli,
        since=date(2016, 5, 1),
        ownership="private",
        elderly_care_ownership="private",
        medical_operating_since=date(2019, 3, 1),
        beds_elderly_care=260,
        beds_nursing=120,
        **_residents(rng, 260, 0.62),
    )
    lanxin.values.update(lat=24.5208, lng=118.1562)
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
    xinkaiyuan.values.update(lat=24.4953, lng=118.1257, ownership="private")
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
    lianhua.values.update(lat=24.4869, lng=118.1252, ownership="private")
    hongai = _base(
        "厦门弘爱养护院",
        "350206",
        "integrated",
        "elderly_care_home",
        rng=rng,
        seat=xm_huli,
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
    hongai.values.update(lat=24.5302, lng=118.1874, licence_no=f"{hongai.values['uscc'][8:17]}35020621A7102")
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
    lotus_care.values.update(lat=24.4811, lng=118.1198, ownership="private", **_residents(rng, 200, 0.86))
    fuzhou_welfare = _base(
        "福州市社会福利院",
        "350104",
        "elderly_care",
        "elderly_care_home",
        rng=rng,
        seat=(26.047, 119.273),
        since=date(1958, 1, 1),
        department="12",
        ownership="public",
        elderly_care_ownership="public",
        beds_elderly_care=800,
        beds_nursing=400,
        **_residents(rng, 800, 0.9),
    )
    fuzhou_welfare.values.update(lat=26.0297, lng=119.3008)
    jinjiang_tcm = _hospital(
        "晋江市中医院",
        "350582",
        rng,
        (24.781, 118.552),
        grade="grade_3",
        type_="tcm",
        beds=800,
        since=date(1956, 3, 1),
        tcm_hall=True,
        home_bed_service=True,
    )
    jinjiang_tcm.values.update(lat=24.8022, lng=118.5823)
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


def _practitioner_row(
    pid: uuid.UUID,
    name: str,
    institution: dict[str, Any],
    kind: str,
    title: str | None,
    years: int,
    rng: random.Random,
    cipher: PersonalDataCipher,
) -> dict[str, Any]:
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
        "id": pid,
        "institution_id": institution["id"],
        "region_code": institution["region_code"],
        "name": name,
        "kind": kind,
        "title": title,
        "practice_certificate_no": None
        if kind == "carer"
        else f"{rng.randint(2000, 2024)}{rng.randint(10**7, 10**8 - 1)}",
        "clinical_years": years,
        "id_number_enc": cipher.encrypt(id_card),
        "id_number_hash": cipher.lookup_hash(id_card, "id_card"),
        "phone_enc": cipher.encrypt(phone),
        "trainings": trainings,
        "misconduct_recorded": False,
        "active": True,
    }


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


async def _insert_tracked(
    session: AsyncSession, model: type[Any], rows: list[dict[str, Any]], now: Any
) -> None:
    if not rows:
        return
    rows = [{**row, "version": 1, "created_at": now, "updated_at": now} for row in rows]
    per = max(1, 30_000 // len(rows[0]))
    for start in range(0, len(rows), per):
        await session.execute(insert(_table(model)), rows[start : start + per])
    if hasattr(model, "__change_entity__"):
        for row in rows:
            changes.track(session, model(**row))


async def seed_session(
    session: AsyncSession, cipher: PersonalDataCipher, *, today: date | None = None
) -> dict[str, int]:
    """Insert what is missing; returns how many rows of each kind were added."""
    today = today or date.today()
    rng = random.Random(350000)
    now = utcnow()
    specs = named_institutions(rng) + generated_institutions(rng)
    existing = set((await session.scalars(select(Institution.id))).all())
    existing_usccs = set(
        (await session.scalars(select(Institution.uscc).where(Institution.uscc.is_not(None)))).all()
    )
    institution_rows: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    for spec in specs:
        data = InstitutionCreate.model_validate(spec.values)  # the seed obeys the API's own rules
        values = data.model_dump(exclude={"contact_phone"})
        phone = data.contact_phone
        row = {
            "id": demo_id("institution", spec.name),
            **values,
            "contact_phone_enc": cipher.encrypt(phone),
            "has_medical_unit": values["kind"] != "elderly_care",
            "active": True,
        }
        by_name[spec.name] = row
        if row["id"] not in existing and row["uscc"] not in existing_usccs:
            institution_rows.append(row)
    named_elderly = {"兰馨颐养院"}
    filings_plan = [by_name[n] for n in named_elderly] + [
        row
        for row in by_name.values()
        if row["kind"] == "elderly_care" and row["category"] == "elderly_care_home"
    ][1:40:3]
    revoked_index = 5
    for n, row in enumerate(filings_plan):
        row["has_medical_unit"] = n != revoked_index  # an accepted filing gives the medical unit
    await _insert_tracked(session, Institution, institution_rows, now)
    new_ids = {row["id"] for row in institution_rows}

    # filings: accepted internal clinics of some elderly-care homes (兰馨颐养院 first), one revoked
    filing_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for n, institution in enumerate(filings_plan):
        if institution["id"] not in new_ids:
            continue
        unit = [UnitKind.infirmary, UnitKind.nursing_station, UnitKind.clinic][n % 3]
        revoked = n == revoked_index
        filing_id = demo_id("filing", institution["name"])
        filing_rows.append(
            {
                "id": filing_id,
                "institution_id": institution["id"],
                "region_code": institution["region_code"],
                "unit_kind": unit,
                "unit_name": institution["name"] + ("医务室", "护理站", "门诊部")[n % 3],
                "ws218_kind_code": {"infirmary": "D400", "nursing_station": "A720", "clinic": "D211"}[
                    unit.value
                ],
                "person_in_charge": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "doctors": 1 + n % 2,
                "nurses": 2 + n % 3,
                "service_scope": "常见病诊疗、慢病管理、康复护理",
                "state": FilingState.revoked if revoked else FilingState.accepted,
                "documents": ["application_form", "premises_proof", "staff_qualifications", "rules"],
                "filing_no": f"YB{institution['region_code']}2020{n:06d}",
                "revision": 1,
                "accepted_at": now,
                "state_reason": "现场核查：医师执业地点未变更" if revoked else None,
            }
        )
        event_rows.append(
            {
                "id": uuid.uuid4(),
                "filing_id": filing_id,
                "action": "submit",
                "from_state": None,
                "to_state": "accepted",
                "reason": None,
                "changes": None,
                "revision": 1,
                "actor_sub": "seed",
                "actor_role": "institution_admin",
                "occurred_at": now,
            }
        )
        if revoked:
            event_rows.append(
                {
                    "id": uuid.uuid4(),
                    "filing_id": filing_id,
                    "action": "revoke",
                    "from_state": "accepted",
                    "to_state": "revoked",
                    "reason": "现场核查：医师执业地点未变更",
                    "changes": None,
                    "revision": 1,
                    "actor_sub": "seed",
                    "actor_role": "county_admin",
                    "occurred_at": now,
                }
            )
    await _insert_tracked(session, Filing, filing_rows, now)
    if event_rows:
        await session.execute(insert(_table(FilingEvent)), event_rows)

    # year figures for the last three years of every elderly-care and integrated institution
    stat_rows: list[dict[str, Any]] = []
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
            stat_rows.append(
                {
                    "id": uuid.uuid4(),
                    "institution_id": row["id"],
                    "region_code": row["region_code"],
                    "year": year,
                    "operating_beds": beds,
                    "occupied_bed_days": int(beds * occupancy * days),
                    "residents": residents,
                    "disabled_residents": disabled,
                    "dementia_residents": dementia,
                    "disabled_or_dementia_residents": min(residents, disabled + dementia // 2),
                }
            )
    await _insert_tracked(session, InstitutionYearStat, stat_rows, now)  # in the feed, like institutions

    # practitioners: the named ones, and nurses of every title with a doctor at each hospital; every row
    # is generated at every run (each from its own random stream) and only the missing ones are written
    existing_people = set((await session.scalars(select(Practitioner.id))).all())
    people: list[dict[str, Any]] = []
    for name, institution_name, kind, title, years in NAMED_PRACTITIONERS:
        person_rng = random.Random(f"practitioner:{name}")
        pid = demo_id("practitioner", name)
        people.append(
            _practitioner_row(pid, name, by_name[institution_name], kind, title, years, person_rng, cipher)
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
            people.append(_practitioner_row(pid, name, institution, "nurse", title, years, staff_rng, cipher))
        name = staff_rng.choice(SURNAMES) + staff_rng.choice(GIVEN)
        pid = demo_id("practitioner", f"{institution['name']}:doctor:{name}")
        doctor_title, doctor_years = staff_rng.choice(DOCTOR_TITLES), staff_rng.randint(3, 30)
        people.append(
            _practitioner_row(pid, name, institution, "doctor", doctor_title, doctor_years, staff_rng, cipher)
        )
    people = [row for row in people if row["id"] not in existing_people]
    await _insert_tracked(session, Practitioner, people, now)
    return {
        "institutions": len(institution_rows),
        "filings": len(filing_rows),
        "year_stats": len(stat_rows),
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
