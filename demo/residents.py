"""Demo data of the residents service (issue 19): elders of 湖里 (or more counties) with their family-doctor
contracts, their 65+ health check-ups and ability assessments, written through the residents service's
bulk paths in-process, as the city platform (厦门's) would push them.

Size — the scale of the seeds (indicators.md, source 001): **湖里 held 38,833 elder check-ups in 2024**.
Every county gets :func:`checkup_share` × its 65+ population (the demo population of
:mod:`demo.indicators`, ``source = demo``) of people checked last year — 湖里 (46,300 people 65+ in the
demo table: what 001's 38,833 check-ups at a 规范健康管理率 of 77.96 % imply) gets 38,833 — and, 1,000
elders a transaction:

- every one of them registered (``sync.service.persons_bulk``: encrypted, blind index, as ``POST
  /persons/bulk``);
- their check-up of last year (``checkups_bulk``, as ``POST /checkups/bulk``) by the county's
  社区卫生服务中心 / 卫生院 in turn: every part of the rule on one day, ``STANDARD_SHARE`` of them complete
  (规范), the rest missing the ultrasound;
- ``SIGNED_SHARE`` of the 65+ population signed (``signings_bulk``), the contract starting in the twelve
  months before the end of last year; when its term is over by today, ``RENEWED_SHARE`` of them are
  renewed on their end date (``signings.service.renew_many``: ``renew``'s rules; the 续签 rate of 湖里
  2024, 96.51 %);
- ``ASSESSED_SHARE`` of them assessed last year (``assessments_bulk``, GB/T 42195-2022 item scores; the
  level is the service's), most of them 失能.

A record the rules refuse stops the seed (:class:`demo.SeedRejected`). Each institution has one team (its
doctor as 全科医生, a nurse as 健康管理员: ``teams.service.create``) and a basic package
(``packages.service.create``), from the registry's demo province (:func:`fetched`). The registry's
社区卫生服务中心 and 卫生院 without a doctor have no team; their county's people go to the others.

**What is seeded.** ``make run`` (``python -m demo.residents`` without arguments) seeds **湖里 at full
size** (``DEFAULT_SCALE`` = 1): 38,833 persons and check-ups (36,093 规范: 78.0 % of 46,300), 24,909
contracts (53.8 % of 46,300), renewed at ~96.5 % of those due, 3,107 assessments. With 湖里's 65+
figure at the equal split (71,000, before) it was 38,198 contracts of which 36,884 renewed — measured
2026-11-30: 42 s of CPU on PostgreSQL (87 s wall at load average 4–6), 67 s on SQLite (``make run``'s
default, 77 s wall); ~25 ms of CPU an elder through the single writes before (~16 minutes), ~1.1 ms
now. The ≤ 30 s target is not met: what is left is per-record Python (validation of each record, the
feed's and audit's values; AES-GCM is 9 ms per 1,000 persons).
A stack that needs only some residents (end-to-end tests) may set ``DEMO_RESIDENTS_SCALE`` (e.g. 0.02).
The other counties are not seeded by default (a fraction of the province within 60 s more would be ~1/60
of it: tiny, wrong rates); ``--counties xiamen`` / ``all`` with ``--scale`` seeds them, run once on a
data directory that is kept. So the indicators' three rates are 湖里's (health management from the
check-ups, signing and renewal from the contracts): the indicators report sums a region's figures over
its reporting counties only and shows the coverage (1 of 83 counties, 1.0 % of the province's 65+
people), so the province's and 厦门's rates are 湖里's. Idempotent: a residents database holding a team
already is left alone. Deterministic: the same people (ID numbers, names, dates, scores) at every run;
the ids are the service's.

Run: ``python -m demo.residents [--counties 350206,…|xiamen|all] [--scale 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import SeedRejected, analyze_schema, refuse_in_production
from demo.indicators import CITIES, COUNTY_AGED_65_PLUS
from demo.province import Place, Province, read_province
from libs.common import divisions
from libs.common.auth import Principal, Role
from libs.common.bulk import BulkOutcome, BulkRecordResult, BulkResponse
from libs.common.clock import today_in_china
from libs.common.database import Database, session_scope
from libs.common.errors import DomainError
from libs.common.identifiers import id_number_check_char
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import PersonalDataCipher
from services.residents import models as _all_models  # noqa: F401  (every table on the metadata)
from services.residents.assessments.scale import SCALES
from services.residents.checkups.rules import RULES
from services.residents.clients.registry import InstitutionInfo, PractitionerInfo
from services.residents.packages import service as packages
from services.residents.packages.schemas import PackageCreate, PackageItem
from services.residents.settings import ResidentsSettings
from services.residents.signings import service as signings
from services.residents.signings.rules import term_end
from services.residents.sync import service as sync
from services.residents.sync.schemas import AssessmentBulk, CheckupBulk, PersonBulk, SigningBulk
from services.residents.teams import service as teams
from services.residents.teams.models import Team
from services.residents.teams.schemas import TeamCreate, TeamMemberCreate

#: 湖里's 38,833 check-ups (2024, source 001) over its 65+ population in the demo table (46,300)
HULI: Final = "350206"
HULI_CHECKUPS: Final = 38_833
STANDARD_SHARE: Final = 0.93
SIGNED_SHARE: Final = 0.538  # 湖里 2024 家庭医生签约率 (001), over the 65+ population here
RENEWED_SHARE: Final = 0.9651  # 湖里 2024 续签率 (001)
ASSESSED_SHARE: Final = 0.08
XIAMEN: Final = "350200"
#: what ``make run`` seeds (``python -m demo.residents`` without arguments): 湖里 at full size
DEFAULT_COUNTIES: Final = (HULI,)
DEFAULT_SCALE: Final = 1.0
BATCH: Final = 1000  # records per bulk call and transaction (the bulk endpoints' default batch)
SURNAMES: Final = "陈林黄张李王吴刘蔡杨郑许谢洪郭邱曾廖赖徐周叶苏庄吕江何萧罗高潘简朱钟彭游詹胡施沈余"
GIVEN: Final = (
    "秀英",
    "玉兰",
    "桂英",
    "淑珍",
    "阿水",
    "金水",
    "文华",
    "国强",
    "建国",
    "美玉",
    "丽华",
    "振华",
)
STREETS: Final = ("殿前", "禾山", "江头", "金山", "湖里", "鼓浪", "中华", "筼筜", "莲前", "滨海")


def aged_65_plus(county: str) -> int:
    """The county's 65+ population in the demo table, as :mod:`demo.indicators` computes it (the city's
    residents split equally among its counties, rounded to 1,000; its share aged 65+, rounded to 100;
    湖里's the one the seeds imply, ``COUNTY_AGED_65_PLUS``)."""
    if county in COUNTY_AGED_65_PLUS:
        return COUNTY_AGED_65_PLUS[county]
    city = "350128" if county == "350128" else county[:4] + "00"
    ten_thousands, aged_share = CITIES[city]
    residents = round(ten_thousands * 10_000 // len(divisions.counties_of(city)), -3)
    return int(round(residents * aged_share, -2))


def checkup_share() -> float:
    return HULI_CHECKUPS / aged_65_plus(HULI)


@dataclass
class Practice:
    """A primary-care institution of the demo province with its team and basic package."""

    place: Place
    doctor: uuid.UUID
    nurse: uuid.UUID
    principal: Principal
    team_id: uuid.UUID | None = None
    package_id: uuid.UUID | None = None


def practices(province: Province, county: str) -> list[Practice]:
    found = []
    for place in province.places:
        if place.region_code != county or place.category not in (
            "community_health_center",
            "township_health_center",
        ):
            continue
        staff = [p for p in province.people if p.institution_id == place.id]
        doctor = next((p for p in staff if p.kind == "doctor"), None)
        nurse = next((p for p in staff if p.kind == "nurse"), None)
        if doctor is None or nurse is None:
            continue
        principal = Principal(
            sub=f"demo-seed:{place.id}",
            role=Role.institution_admin,
            region_code=county,
            institution_id=place.id,
        )
        found.append(Practice(place, doctor.id, nurse.id, principal))
    return found


def fetched(practice: Practice, province: Province) -> teams.Fetched:
    """The registry's answers for the team's institution and members, from the demo province."""
    place = practice.place
    info = InstitutionInfo(
        id=place.id, name=place.name, kind=place.kind, category=place.category, region_code=place.region_code
    )
    people = {p.id: p for p in province.people if p.id in (practice.doctor, practice.nurse)}
    return teams.Fetched(
        info,
        {
            pid: PractitionerInfo(
                id=pid,
                institution_id=place.id,
                region_code=place.region_code,
                name=people[pid].name,
                kind=people[pid].kind,
                title=people[pid].title,
            )
            for pid in (practice.doctor, practice.nurse)
        },
    )


def id_number(county: str, birth: date, seq: int) -> str:
    """A valid 居民身份证号 of the county: ``seq`` (0–999) tells apart people born the same day
    (this seed numbers from 100)."""
    body = f"{county}{birth:%Y%m%d}{seq:03d}"
    return body + id_number_check_char(body)


def _rejected(what: str, exc: DomainError) -> SeedRejected:
    result = BulkRecordResult(
        index=0, external_id=None, outcome=BulkOutcome.rejected, code=exc.code, detail=exc.detail
    )
    return SeedRejected([(what, result)], rules="居民健康服务", what="演示居民")


async def _team_and_package(session: AsyncSession, practice: Practice, province: Province) -> None:
    place = practice.place
    team = await teams.create(
        session,
        practice.principal,
        TeamCreate(
            name=f"{place.name}家庭医生团队",
            members=[
                TeamMemberCreate(practitioner_id=practice.doctor, role="general_practitioner"),
                TeamMemberCreate(practitioner_id=practice.nurse, role="health_manager"),
            ],
        ),
        fetched(practice, province),
    )
    package = await packages.create(
        session,
        practice.principal,
        PackageCreate(
            code="JC",
            name="老年人基础服务包",
            kind="basic",
            fee_yuan=Decimal("0.00"),
            items=[
                PackageItem(code="checkup", name="年度健康体检", times_per_year=1),
                PackageItem(code="followup", name="健康随访", times_per_year=4),
            ],
        ),
        fetched(practice, province).institution,
    )
    practice.team_id, practice.package_id = team.id, package.id


@dataclass(frozen=True)
class Elder:
    n: int
    county: str
    birth: date
    seq: int
    name: str
    checkup_day: date
    standard: bool
    signed_on: date | None
    assessed: tuple[date, int] | None  # date and target total


def elders(county: str, count: int, signed: int, assessed: int, year: int) -> list[Elder]:
    rng = random.Random(f"residents:{county}")
    first, days = date(year, 1, 2), 360
    sign_from = date(year - 1, 12, 1)
    found = []
    born_on: dict[date, int] = {}
    for n in range(count):
        birth = date(rng.randint(year - 100, year - 66), rng.randint(1, 12), rng.randint(1, 28))
        # from 100 a birth day: the named demo elders hold low sequences (李秀英 …0029 is 湖里 1940-03-15,
        # 002), homecare's seed 500–749 and contracts' 750–999 — one number, one person across seeds
        seq = born_on[birth] = born_on.get(birth, 99) + 1
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        found.append(
            Elder(
                n=n,
                county=county,
                birth=birth,
                seq=seq,
                name=name,
                checkup_day=first + timedelta(days=rng.randrange(days)),
                standard=rng.random() < STANDARD_SHARE,
                signed_on=sign_from + timedelta(days=rng.randrange(365)) if n < signed else None,
                assessed=(
                    date(year, rng.randint(1, 12), rng.randint(1, 28)),
                    rng.choice([85, 70, 55, 40, 20]),
                )
                if n >= count - assessed
                else None,
            )
        )
    return found


def scores_totalling(total: int) -> dict[str, int]:
    scale = SCALES[ResidentsSettings.model_fields["assessment_scale_version"].default]
    scores = dict.fromkeys((item.code for item in scale.items), 0)
    left = total
    for item in sorted(scale.items, key=lambda item: item.code != "consciousness"):
        given = min(item.max_score, left)
        scores[item.code] = given
        left -= given
    return scores


async def seed_county(
    database: Database,
    settings: ResidentsSettings,
    cipher: PersonalDataCipher,
    province: Province,
    county: str,
    scale: float,
    today: date,
) -> dict[str, int]:
    offices = practices(province, county)
    if not offices:
        return {}
    async with session_scope(database) as session:
        for practice in offices:
            await _team_and_package(session, practice, province)
    year = today.year - 1
    aged = aged_65_plus(county)
    count = round(aged * checkup_share() * scale)
    signed = min(count, round(aged * SIGNED_SHARE * scale))
    people = elders(county, count, signed, round(count * ASSESSED_SHARE), year)
    rule = RULES[settings.checkup_rule_version]
    platform = Principal(sub="demo-seed:platform", role=Role.city_platform, region_code=city_of(county))
    institutions: dict[uuid.UUID, InstitutionInfo | None] = {
        practice.place.id: fetched(practice, province).institution for practice in offices
    }
    principals = {practice.place.id: practice.principal for practice in offices}
    made = {"persons": 0, "checkups": 0, "signings": 0, "renewals": 0, "assessments": 0}
    for start in range(0, len(people), BATCH):
        chunk = people[start : start + BATCH]
        numbers = {elder.n: id_number(county, elder.birth, elder.seq) for elder in chunk}
        async with session_scope(database) as session:
            answer = await sync.persons_bulk(
                session,
                platform,
                cipher,
                PersonBulk(
                    source_system="demo",
                    records=[
                        {
                            "external_id": f"{county}:{elder.n}",
                            "name": elder.name,
                            "id_number": numbers[elder.n],
                            "phone": f"139{county[2:]}{elder.n % 10_000:04d}",
                            "address": f"{divisions.get(county).name}"  # type: ignore[union-attr]
                            f"{STREETS[elder.n % len(STREETS)]}街道{elder.n % 300 + 1}号",
                            "region_code": county,
                        }
                        for elder in chunk
                    ],
                ),
                max_records=BATCH,
            )
            made["persons"] += _written(answer, county, "居民")
            answer = await sync.checkups_bulk(
                session,
                platform,
                settings,
                cipher,
                CheckupBulk(
                    source_system="demo",
                    records=[
                        {
                            "external_id": f"{county}:{year}:{elder.n}",
                            "institution_id": str(offices[elder.n % len(offices)].place.id),
                            "id_number": numbers[elder.n],
                            "parts": [
                                {"code": part.code, "done_date": elder.checkup_day.isoformat()}
                                for part in rule.parts
                                if elder.standard or part.code != rule.parts[-1].code
                            ],
                        }
                        for elder in chunk
                    ],
                ),
                institutions,
                max_records=BATCH,
            )
            made["checkups"] += _written(answer, county, "体检")
            signers = [elder for elder in chunk if elder.signed_on is not None]
            if signers:
                answer = await sync.signings_bulk(
                    session,
                    platform,
                    settings,
                    cipher,
                    SigningBulk(
                        source_system="demo",
                        records=[
                            {
                                "external_id": f"{county}:QY:{elder.n}",
                                "team_id": str(offices[elder.n % len(offices)].team_id),
                                "id_number": numbers[elder.n],
                                "package_ids": [str(offices[elder.n % len(offices)].package_id)],
                                "start_date": str(elder.signed_on),
                            }
                            for elder in signers
                        ],
                    ),
                    today=today,
                    max_records=BATCH,
                )
                made["signings"] += _written(answer, county, "签约")
                due = [
                    result.id
                    for elder, result in zip(signers, answer.results, strict=True)
                    if result.id is not None
                    and elder.signed_on is not None
                    and term_end(elder.signed_on, settings.signing_term_months) < today
                    and random.Random(f"renew:{county}:{elder.n}").random() < RENEWED_SHARE
                ]
                try:  # on its end date, as a team renewing it that day
                    renewed = await signings.renew_many(
                        session, principals, settings, due, lambda signing: signing.end_date
                    )
                except DomainError as exc:
                    raise _rejected(f"{county} 续签", exc) from exc
                made["renewals"] += len(renewed)
            assessed = [elder for elder in chunk if elder.assessed is not None]
            if not assessed:
                continue
            answer = await sync.assessments_bulk(
                session,
                platform,
                settings,
                cipher,
                AssessmentBulk(
                    source_system="demo",
                    records=[
                        {
                            "external_id": f"{county}:PG:{elder.n}",
                            "institution_id": str(offices[elder.n % len(offices)].place.id),
                            "id_number": numbers[elder.n],
                            "assessed_date": elder.assessed[0].isoformat(),  # type: ignore[index]
                            "scores": scores_totalling(elder.assessed[1]),  # type: ignore[index]
                        }
                        for elder in assessed
                    ],
                ),
                institutions,
                max_records=BATCH,
            )
            made["assessments"] += _written(answer, county, "评估")
    return made


def city_of(county: str) -> str:
    return "350128" if county == "350128" else county[:4] + "00"


def _written(answer: BulkResponse, county: str, what: str) -> int:
    """How many records the bulk write took; a refused one stops the seed (the demo obeys the rules)."""
    refused = [
        (f"{county} {what} {r.external_id}", r) for r in answer.results if r.outcome is BulkOutcome.rejected
    ]
    if refused:
        raise SeedRejected(refused, rules="居民健康服务", what="演示居民")
    return len(answer.results)


async def seed(
    settings: ResidentsSettings | None = None,
    *,
    counties: Sequence[str] | None = None,
    scale: float = DEFAULT_SCALE,
    province: Province | None = None,
) -> dict[str, dict[str, int]]:
    """Seed the residents of ``counties`` (default: 厦门's); {} when the database holds a team already."""
    settings = settings or ResidentsSettings()
    refuse_in_production(settings)
    province = province if province is not None else await read_province()
    chosen = list(counties) if counties is not None else list(DEFAULT_COUNTIES)
    database = Database(settings)
    try:
        async with session_scope(database, write=False) as session:
            if await session.scalar(select(func.count()).select_from(Team)):
                return {}
        cipher = personal_data_cipher(settings)
        today = today_in_china()
        made = {
            county: await seed_county(database, settings, cipher, province, county, scale, today)
            for county in chosen
        }
        await analyze_schema(database)
        return made
    finally:
        await database.dispose()


def _counties(text: str) -> list[str]:
    if text == "xiamen":
        return [d.code for d in divisions.counties_of(XIAMEN)]
    if text == "all":
        return sorted(d.code for d in divisions.all_divisions() if d.level.value == "county")
    return [c.strip() for c in text.split(",") if c.strip()]


async def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="居民健康服务演示数据（厦门，经居民服务的写入路径）")
    parser.add_argument(
        "--counties", help="县级区划代码，逗号分隔；xiamen 为厦门六区；all 为全省（很慢）；默认湖里"
    )
    parser.add_argument(
        "--scale",
        type=float,
        # a stack that only needs some residents (end-to-end tests) may set DEMO_RESIDENTS_SCALE
        default=float(os.environ.get("DEMO_RESIDENTS_SCALE", DEFAULT_SCALE)),
        help=f"规模系数（1 = 湖里 38,833 人次/年的比例；默认 {DEFAULT_SCALE}，即 make run 的湖里全量）",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        result = await seed(counties=_counties(args.counties) if args.counties else None, scale=args.scale)
    except SeedRejected as exc:
        print(exc, file=sys.stderr)
        return 1
    if not result:
        print("居民服务已有演示数据，未写入")
        return 0
    for county, made in result.items():
        print(county, made)
    print(f"用时 {time.monotonic() - started:.1f} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main(sys.argv[1:])))
