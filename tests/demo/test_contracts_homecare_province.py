"""The contracts and homecare demo tell the truth (issue 14, part B).

The registry's demo is seeded, then the contracts and homecare seeds read it (as ``make run`` does), each
into a database (or schema) of its own. The headline aggregates are counted here straight from the seeded
tables with the definitions of indicators.md and compared with the source figures (within 5 %); the rules
of rules.md are checked on every row: parties of the right kinds, no draft 备案, home-bed providers are
medical institutions, nurses of done orders are eligible, one open referral per resident; and every demo
account has work waiting.

Then, as ``make run`` does once the stack answers, the linking commands' ``link_existing`` link the demo's
recipients and referral residents to the residents' person index (the residents app in-process, each
service with its own token): every elder is then one person (issue 19) — by ``person_id``, no copy left.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, text

from demo import demo_id
from demo import registry as registry_demo
from demo.contracts import seed as seed_contracts
from demo.homecare import seed as seed_homecare
from libs.common import changes
from libs.common.auth import Role, TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.http_client import StaticTokenSource
from libs.common.keys import personal_data_cipher
from libs.common.migrations import upgrade_head_async
from libs.common.person_index import PersonIndex
from libs.common.person_linking import LinkReport
from libs.common.personal_data import generate_key
from libs.common.testing import TestDatabases, Tokens, make_settings, running
from services.contracts.clock import Clock
from services.contracts.referrals import person_link as referral_link
from services.contracts.settings import ContractsSettings
from services.homecare.recipients import person_link as recipient_link
from services.homecare.recipients.models import IDENTITY_COLUMNS
from services.homecare.settings import HomecareSettings
from services.registry.settings import RegistrySettings
from services.residents.app import create_app as create_residents_app
from services.residents.persons.models import Person
from services.residents.settings import ResidentsSettings

#: indicators.md: 签约对数 2,574 (000); 开展家庭病床的医疗机构 269 (000);
#: 湖里 家庭病床建床数 296 in 2024 (001)
SIGNED_PAIRS = 2574
HOME_BED_PROVIDERS = 269
HULI_BEDS_2024 = 296
#: rules.md: nurse eligibility — 护师 or above, at least 5 years of clinical nursing
ELIGIBLE_TITLES = ("senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse")


def near(value: float, expected: float, tolerance: float = 0.05) -> bool:
    return abs(value - expected) <= tolerance * expected


@dataclass
class Seeded:
    registry: Database
    contracts: Database
    homecare: Database
    today: date
    #: each demo elder's ID number (from the seeds' copies, before linking): (homecare's, referrals') by row
    recipient_numbers: dict[str, str]
    referral_numbers: dict[str, str]
    links: tuple[LinkReport, LinkReport]
    #: each elder's home as homecare's seed gave it, and as the residents' person holds it after the links
    homes: dict[str, tuple[str | None, str | None]]

    async def rows(self, database: Database, sql: str, **params: Any) -> list[Any]:
        async with database.session() as session:
            return list((await session.execute(text(sql), params)).all())

    def uid(self, value: uuid.UUID) -> Any:
        """A uuid as a raw statement binds it (SQLite stores the 32 hex digits)."""
        return value.hex if self.contracts.engine.dialect.name == "sqlite" else value

    async def scalar(self, database: Database, sql: str, **params: Any) -> Any:
        return (await self.rows(database, sql, **params))[0][0]


@pytest_asyncio.fixture(scope="module")
async def seeded(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens
) -> AsyncIterator[Seeded]:
    def url(name: str) -> str:
        return test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / f'{name}.db'}"

    registry = make_settings(
        RegistrySettings, test_databases, database_url=url("demo_registry"), database_schema="demo_registry"
    )
    # the keys each service keeps (a test cipher's are random at each call): the seeds, the links and the
    # checks here read one service's copies with the same keys, as make run's services do
    contracts = make_settings(
        ContractsSettings,
        test_databases,
        database_url=url("demo_contracts"),
        database_schema="demo_contracts",
        **_keys(),
    )
    homecare = make_settings(
        HomecareSettings,
        test_databases,
        database_url=url("demo_homecare"),
        database_schema="demo_homecare",
        **_keys(),
    )
    for settings in (registry, contracts, homecare):
        await upgrade_head_async(settings)
    # the registry's province (institutions, practitioners), without its 示范 batches: not read here
    registry_database = Database(registry)
    try:
        async with session_scope(registry_database) as session:
            await registry_demo.seed_session(session, personal_data_cipher(registry))
            await changes.write_pending_changes(session)
    finally:
        await registry_database.dispose()
    await seed_contracts(contracts, registry)
    await seed_homecare(homecare, registry)
    residents = make_settings(
        ResidentsSettings,
        test_databases,
        database_url=url("demo_link_residents"),
        database_schema="demo_link_residents",
        **_keys(),
    )
    await upgrade_head_async(residents)
    contracts_db, homecare_db = Database(contracts), Database(homecare)
    recipient_numbers = await _numbers(
        homecare_db, personal_data_cipher(homecare), "SELECT id, id_number_enc FROM recipient"
    )
    referral_numbers = await _numbers(
        contracts_db, personal_data_cipher(contracts), "SELECT id, resident_id_number_enc FROM referral"
    )
    homecare_cipher = personal_data_cipher(homecare)
    async with homecare_db.session() as session:
        seeded_homes = {
            homecare_cipher.decrypt(row[0]): homecare_cipher.decrypt(row[1])
            for row in await session.execute(text("SELECT id_number_enc, address_enc FROM recipient"))
        }
    links = await _link(residents, token_verifier, tokens, homecare, contracts)
    residents_db, residents_cipher = Database(residents), personal_data_cipher(residents)
    try:
        async with residents_db.session() as session:
            held = {
                row[0]: residents_cipher.decrypt(row[1])
                for row in await session.execute(
                    select(Person.id_number_hash, Person.address_enc).where(
                        Person.id_number_hash.in_(
                            [residents_cipher.lookup_hash(n, "id_card") for n in seeded_homes]
                        )
                    )
                )
            }
    finally:
        await residents_db.dispose()
    homes: dict[str, tuple[str | None, str | None]] = {
        number: (home, held.get(residents_cipher.lookup_hash(number, "id_card")))
        for number, home in seeded_homes.items()
    }
    databases = Seeded(
        Database(registry),
        contracts_db,
        homecare_db,
        Clock().today(),
        recipient_numbers,
        referral_numbers,
        links,
        homes,
    )
    try:
        yield databases
    finally:
        for database in (databases.registry, databases.contracts, databases.homecare):
            await database.dispose()


def _keys() -> dict[str, Any]:
    return {"personal_data_keys": {"test1": generate_key()}, "personal_data_lookup_key": generate_key()}


async def _numbers(database: Database, cipher: Any, sql: str) -> dict[str, str]:
    """Each row's ID number, from its encrypted copy (what the seeds write in-process, before linking)."""
    async with database.session() as session:
        rows = (await session.execute(text(sql))).all()
    return {str(row[0]).replace("-", ""): cipher.decrypt(row[1]) for row in rows if row[1] is not None}


async def _link(
    residents: ResidentsSettings,
    verifier: TokenVerifier,
    tokens: Tokens,
    homecare: HomecareSettings,
    contracts: ContractsSettings,
) -> tuple[LinkReport, LinkReport]:
    """What ``make run`` does once the stack answers: the linking commands, through the residents API —
    the referrals' first here, the order in which an elder in both (黄国平) used to lose the home address
    only homecare's record carries (the person registered from the referral had none, the recipient's copy
    was cleared): the residents now fill what the person lacks. Answers (homecare's, contracts')."""
    app = create_residents_app(residents, verifier=verifier)
    reports: dict[str, LinkReport] = {}
    async with running(app):
        for module, settings, caller in (
            (referral_link, contracts, "contracts"),
            (recipient_link, homecare, "homecare"),
        ):
            token = tokens.token(Role.service, sub=f"service:{caller}")
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway"
            ) as http:
                database = Database(settings)
                try:
                    index = PersonIndex(http, StaticTokenSource(token))
                    reports[caller] = await module.link_existing(
                        database, index, personal_data_cipher(settings)
                    )
                finally:
                    await database.dispose()
    return reports["homecare"], reports["contracts"]


IN_FORCE = "state IN ('countersigned', 'active') AND start_date <= :today AND end_date >= :today"


async def test_signed_pairs_in_force_are_the_provinces(seeded: Seeded) -> None:
    pairs = await seeded.scalar(
        seeded.contracts,
        "SELECT COUNT(*) FROM (SELECT DISTINCT medical_institution_id, elderly_institution_id "
        f"FROM agreement WHERE {IN_FORCE}) AS p",
        today=seeded.today,
    )
    assert near(pairs, SIGNED_PAIRS), pairs


async def test_agreements_bind_a_medical_institution_to_an_elderly_care_one(seeded: Seeded) -> None:
    kinds = {
        str(row.id).replace("-", ""): (row.kind, row.category, row.region_code)
        for row in await seeded.rows(
            seeded.registry, "SELECT id, kind, category, region_code FROM institution"
        )
    }
    agreements = await seeded.rows(
        seeded.contracts,
        "SELECT medical_institution_id AS m, elderly_institution_id AS e, elderly_kind, medical_region_code, "
        "elderly_region_code, region_code FROM agreement",
    )
    assert len(agreements) > SIGNED_PAIRS
    for row in agreements:
        medical = kinds[str(row.m).replace("-", "")]
        elderly = kinds[str(row.e).replace("-", "")]
        assert medical[0] == "medical"
        assert elderly[0] in ("elderly_care", "integrated")
        assert elderly[0] == row.elderly_kind
        assert (medical[2], elderly[2], elderly[2]) == (
            row.medical_region_code,
            row.elderly_region_code,
            row.region_code,
        )
    cross = sum(1 for row in agreements if row.medical_region_code != row.elderly_region_code)
    assert 0 < cross < len(agreements) / 4  # mostly partners of the same county, some cross-county


async def test_no_agreement_is_filed_before_it_is_signed(seeded: Seeded) -> None:
    filed_unsigned = await seeded.scalar(
        seeded.contracts,
        "SELECT COUNT(*) FROM agreement WHERE state IN ('draft', 'submitted') "
        "AND (filed_by IS NOT NULL OR filed_at IS NOT NULL)",
    )
    states = dict(await seeded.rows(seeded.contracts, "SELECT state, COUNT(*) FROM agreement GROUP BY state"))
    assert filed_unsigned == 0
    assert {"draft", "submitted", "countersigned", "active", "expired", "terminated"} <= set(states)
    expiring = await seeded.scalar(
        seeded.contracts,
        f"SELECT COUNT(*) FROM agreement WHERE {IN_FORCE} AND end_date <= :soon",
        today=seeded.today,
        soon=date.fromordinal(seeded.today.toordinal() + 30),
    )
    assert expiring > 0


async def test_rounds_follow_the_agreed_frequency_with_a_shortfall_for_some(seeded: Seeded) -> None:
    per_agreement = await seeded.rows(
        seeded.contracts,
        "SELECT a.id, a.visit_count, a.visit_period, COUNT(v.id) AS done, MIN(v.visit_date) AS first "
        "FROM agreement a JOIN visit v ON v.agreement_id = a.id "
        "WHERE a.state = 'active' GROUP BY a.id, a.visit_count, a.visit_period",
    )
    assert len(per_agreement) > SIGNED_PAIRS * 0.8
    short = 0
    for row in per_agreement:
        first = row.first if isinstance(row.first, date) else date.fromisoformat(str(row.first))
        days = (seeded.today - first).days + 1
        owed = days / (7 if row.visit_period == "week" else 30.4) * row.visit_count
        assert row.done <= owed + 1
        short += row.done < 0.9 * owed - 1
    assert 0.1 * len(per_agreement) < short < 0.5 * len(per_agreement)
    directions = dict(
        await seeded.rows(seeded.contracts, "SELECT direction, COUNT(*) FROM referral GROUP BY direction")
    )
    assert directions.get("up", 0) > directions.get("down", 0) > 0
    open_twice = await seeded.scalar(
        seeded.contracts,
        "SELECT COUNT(*) FROM (SELECT person_id FROM referral "
        "WHERE state IN ('requested', 'accepted', 'admitted') "
        "GROUP BY person_id HAVING COUNT(*) > 1) AS r",
    )
    assert open_twice == 0


async def test_every_demo_elder_is_one_person_without_a_copy(seeded: Seeded) -> None:
    """After the links: every recipient and referral names its person, none keeps a copy of the identity,
    and one elder — one ID number, in homecare, in referrals or in both — is one person."""
    homecare_report, contracts_report = seeded.links
    assert (homecare_report.unmatched, contracts_report.unmatched) == ([], [])
    assert homecare_report.linked == len(seeded.recipient_numbers) > 0
    assert contracts_report.linked == len(seeded.referral_numbers) > 0
    copies = " OR ".join(f"{column} IS NOT NULL" for column in IDENTITY_COLUMNS)
    assert (
        await seeded.scalar(
            seeded.homecare, f"SELECT COUNT(*) FROM recipient WHERE person_id IS NULL OR {copies}"
        )
        == 0
    )
    assert (
        await seeded.scalar(
            seeded.contracts,
            "SELECT COUNT(*) FROM referral WHERE person_id IS NULL OR resident_name_enc IS NOT NULL "
            "OR resident_id_number_enc IS NOT NULL OR resident_id_hash IS NOT NULL "
            "OR resident_phone_enc IS NOT NULL",
        )
        == 0
    )
    persons: dict[str, set[str]] = {}
    for database, numbers, table in (
        (seeded.homecare, seeded.recipient_numbers, "recipient"),
        (seeded.contracts, seeded.referral_numbers, "referral"),
    ):
        for row in await seeded.rows(database, f"SELECT id, person_id FROM {table}"):
            number = numbers[str(row.id).replace("-", "")]
            persons.setdefault(number, set()).add(str(row.person_id).replace("-", ""))
    assert all(len(ids) == 1 for ids in persons.values()), [n for n, ids in persons.items() if len(ids) > 1]
    # ... and two elders are never one person
    owners: dict[str, str] = {}
    for number, ids in persons.items():
        (person,) = ids
        assert owners.setdefault(person, number) == number
    shared = set(seeded.recipient_numbers.values()) & set(seeded.referral_numbers.values())
    assert shared  # 黄国平: a homecare recipient of 新开元, referred down to 兰馨颐养院 (demo.contracts)
    # every elder's home is the person's — those in both too, whose person the referral registered first
    assert {n: home for n, (home, _held) in seeded.homes.items() if home} == {
        n: held for n, (home, held) in seeded.homes.items() if home
    }
    assert shared <= {n for n, (home, _held) in seeded.homes.items() if home}
    print(
        f"linked: {homecare_report.linked} recipients, {contracts_report.linked} referrals; "
        f"{len(persons)} persons, {len(shared)} elders in both"
    )


async def test_home_bed_figures_are_the_provinces(seeded: Seeded) -> None:
    by_year = {
        int(str(row[0])): row[1]
        for row in await seeded.rows(
            seeded.homecare,
            "SELECT EXTRACT(YEAR FROM opened_date), COUNT(DISTINCT institution_id) FROM home_bed "
            "WHERE opened_date IS NOT NULL GROUP BY 1"
            if seeded.homecare.engine.dialect.name == "postgresql"
            else "SELECT strftime('%Y', opened_date), COUNT(DISTINCT institution_id) FROM home_bed "
            "WHERE opened_date IS NOT NULL GROUP BY 1",
        )
    }
    assert near(by_year[2024], HOME_BED_PROVIDERS), by_year
    assert near(by_year[2025], HOME_BED_PROVIDERS), by_year
    huli = await seeded.scalar(
        seeded.homecare,
        "SELECT COUNT(*) FROM home_bed WHERE region_code = '350206' AND opened_date BETWEEN :a AND :b",
        a=date(2024, 1, 1),
        b=date(2024, 12, 31),
    )
    assert near(huli, HULI_BEDS_2024), huli
    medical = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(seeded.registry, "SELECT id FROM institution WHERE kind = 'medical'")
    }
    providers = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(seeded.homecare, "SELECT DISTINCT institution_id FROM home_bed")
    }
    assert providers <= medical
    open_closed = dict(
        await seeded.rows(seeded.homecare, "SELECT status, COUNT(*) FROM home_bed GROUP BY status")
    )
    assert open_closed["closed"] > open_closed["opened"] > 0
    unreasoned = await seeded.scalar(
        seeded.homecare, "SELECT COUNT(*) FROM home_bed WHERE status = 'closed' AND close_reason IS NULL"
    )
    assert unreasoned == 0


async def test_home_bed_providers_are_the_institutions_the_registry_flags(seeded: Seeded) -> None:
    """One truth in both services: the institutions the registry flags ``home_bed_service`` are exactly
    the homecare providers offering home beds, every home bed is at one of them, and they are the
    province's 269 (indicators.md 开展家庭病床的医疗机构, 000) medical institutions."""

    def ids(rows: list[Any]) -> set[str]:
        return {str(r[0]).replace("-", "") for r in rows}

    flagged = ids(await seeded.rows(seeded.registry, "SELECT id FROM institution WHERE home_bed_service"))
    flagged_kinds = {
        r[0]
        for r in await seeded.rows(
            seeded.registry, "SELECT DISTINCT kind FROM institution WHERE home_bed_service"
        )
    }
    offering = ids(
        await seeded.rows(seeded.homecare, "SELECT institution_id FROM provider WHERE home_bed_service")
    )
    with_beds = ids(await seeded.rows(seeded.homecare, "SELECT DISTINCT institution_id FROM home_bed"))
    assert near(len(flagged), HOME_BED_PROVIDERS), len(flagged)
    assert flagged_kinds == {"medical"}
    assert offering - flagged == set(), len(offering - flagged)
    assert flagged - offering == set(), len(flagged - offering)
    assert with_beds <= flagged, len(with_beds - flagged)
    # a doctor of the provider assesses and opens a bed (rules.md, 家庭病床): every provider has one
    doctors = ids(
        await seeded.rows(
            seeded.registry,
            "SELECT DISTINCT institution_id FROM practitioner WHERE kind = 'doctor' AND active",
        )
    )
    assert flagged - doctors == set(), len(flagged - doctors)
    # every bed past its application came in through the historical import, keyed by the demo
    imported = await seeded.scalar(
        seeded.homecare,
        "SELECT count(*) FROM home_bed b JOIN home_bed_source s ON s.home_bed_id = b.id "
        "WHERE s.source_system = 'demo'",
    )
    opened = await seeded.scalar(seeded.homecare, "SELECT count(*) FROM home_bed WHERE status <> 'applied'")
    assert imported == opened > 0


async def test_providers_orders_and_ratings(seeded: Seeded) -> None:
    flagged = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(
            seeded.registry, "SELECT id FROM institution WHERE internet_nursing_provider"
        )
    }
    providers = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(seeded.homecare, "SELECT institution_id FROM provider")
    }
    assert flagged
    assert flagged <= providers
    eligible = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(
            seeded.registry,
            "SELECT id FROM practitioner WHERE kind = 'nurse' AND clinical_years >= 5 "
            "AND NOT misconduct_recorded "
            f"AND title IN {ELIGIBLE_TITLES}",
        )
    }
    nurses = {
        str(r[0]).replace("-", "")
        for r in await seeded.rows(
            seeded.homecare,
            "SELECT DISTINCT nurse_practitioner_id FROM service_order WHERE status IN ('completed', 'rated')",
        )
    }
    assert nurses <= eligible
    orders = await seeded.scalar(seeded.homecare, "SELECT COUNT(*) FROM service_order")
    assert orders > 2000
    bed_ratings = await seeded.rows(
        seeded.homecare,
        "SELECT r.score, o.institution_id = b.institution_id AND o.recipient_id = b.recipient_id "
        "FROM rating r JOIN service_order o ON o.id = r.order_id JOIN home_bed b ON b.id = o.home_bed_id",
    )
    assert len(bed_ratings) > 500
    assert all(bool(same) for _, same in bed_ratings)
    satisfied = sum(1 for score, _ in bed_ratings if score >= 4) / len(bed_ratings)
    assert satisfied > 0.9
    assert await seeded.scalar(seeded.homecare, "SELECT COUNT(*) FROM sos_alert") > 0
    assert await seeded.scalar(seeded.homecare, "SELECT COUNT(*) FROM complaint") > 0


@pytest.mark.parametrize(
    "institution", ["兰馨颐养院", "厦门新开元医院", "厦门莲花医院", "厦门弘爱养护院", "福州市社会福利院"]
)
async def test_every_institution_account_has_an_agreement_to_countersign(
    seeded: Seeded, institution: str
) -> None:
    me = demo_id("institution", institution)
    waiting = await seeded.rows(
        seeded.contracts,
        "SELECT medical_institution_id, elderly_institution_id, submitted_by_institution_id FROM agreement "
        "WHERE state = 'submitted'",
    )
    mine = [
        row
        for row in waiting
        if str(me).replace("-", "") in {str(row[0]).replace("-", ""), str(row[1]).replace("-", "")}
        and str(row[2]).replace("-", "") != str(me).replace("-", "")
    ]
    assert mine


async def test_the_homecare_accounts_have_work_today(seeded: Seeded) -> None:
    for institution in ("厦门新开元医院", "厦门莲花医院"):
        waiting = await seeded.scalar(
            seeded.homecare,
            "SELECT COUNT(*) FROM service_order WHERE institution_id = :i "
            "AND status IN ('submitted', 'accepted')",
            i=seeded.uid(demo_id("institution", institution)),
        )
        assert waiting > 0
    for nurse in ("林晓燕", "陈美玲"):
        assigned = await seeded.scalar(
            seeded.homecare,
            "SELECT COUNT(*) FROM service_order WHERE nurse_practitioner_id = :n AND status = 'assigned'",
            n=seeded.uid(demo_id("practitioner", nurse)),
        )
        assert assigned > 0
    to_assess = await seeded.scalar(
        seeded.homecare,
        "SELECT COUNT(*) FROM home_bed WHERE institution_id = :i AND status = 'applied'",
        i=seeded.uid(demo_id("institution", "厦门新开元医院")),
    )
    assert to_assess > 0
