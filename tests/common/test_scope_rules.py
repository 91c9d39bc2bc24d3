"""Region and institution scope (ARCHITECTURE.md "Regions and scope", rules.md "Region scope"), tested on
the functions themselves: what each kind of principal may see, the 404/403 answers, and the SQL condition
evaluated by a real (in-memory SQLite) database against every Fujian division and a few outsiders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common import divisions
from libs.common.auth import Principal, Role
from libs.common.divisions import DivisionLevel, RegionScope
from libs.common.errors import Forbidden, NotFound
from libs.common.scope import can_see, ensure_in_scope_for_write, ensure_visible, visible_condition

HOSPITAL = uuid.UUID("00000000-0000-4000-8000-000000000001")
NURSING_HOME = uuid.UUID("00000000-0000-4000-8000-000000000002")
#: codes outside Fujian (and prefixes next to its own)
OUTSIDERS = ["110105", "340100", "360102", "3", "34", "36"]


def _principal(role: Role, region: str, institution: uuid.UUID | None = None) -> Principal:
    return Principal(sub=f"test:{role}", role=role, region_code=region, institution_id=institution)


def _fujian() -> list[str]:
    return [d.code for d in divisions.all_divisions()]


def _expected(region: str) -> set[str]:
    """Codes a region-level principal sees, from the rules (not from RegionScope): the province sees
    every Fujian code; a city its own code and counties less 平潭 (a city-level unit of its own);
    平潭 and a county only themselves."""
    if region == "350000":
        return set(_fujian())
    if region == "350128":
        return {"350128"}
    if region.endswith("00"):
        return {c for c in _fujian() if c[:4] == region[:4] and c != "350128"}
    return {region}


REGIONS = ["350000", "350100", "350200", "350128", "350206", "350102"]


# --------------------------------------------------------------------------------------- divisions


def test_the_city_units_are_nine_cities_and_pingtan_and_pingtan_is_a_county_code() -> None:
    units = divisions.city_units()
    assert len(units) == 10
    pingtan = divisions.get("350128")
    assert pingtan is not None
    assert pingtan.is_city_unit
    assert pingtan.level is DivisionLevel.county
    xiamen = divisions.get("350200")
    assert xiamen is not None
    assert xiamen.is_city_unit
    huli = divisions.get("350206")
    assert huli is not None
    assert not huli.is_city_unit
    province = divisions.get("350000")
    assert province is not None
    assert not province.is_city_unit


def test_counties_of_fuzhou_leave_out_pingtan_and_pingtan_has_only_itself() -> None:
    fuzhou = {d.code for d in divisions.counties_of("350100")}
    assert "350102" in fuzhou
    assert "350181" in fuzhou
    assert "350128" not in fuzhou
    assert "350100" not in fuzhou
    assert all(divisions.is_county(code) for code in fuzhou)
    assert [d.code for d in divisions.counties_of("350128")] == ["350128"]
    xiamen = {d.code for d in divisions.counties_of("350200")}
    assert xiamen == {"350203", "350205", "350206", "350211", "350212", "350213"}


def test_counties_of_answers_a_list_of_the_callers_own_and_nothing_for_a_county() -> None:
    first = divisions.counties_of("350200")
    first.clear()
    assert len(divisions.counties_of("350200")) == 6
    assert divisions.counties_of("350206") == []
    assert divisions.counties_of("350000") == []


def test_every_county_belongs_to_exactly_one_city_unit() -> None:
    counties = [d for d in divisions.all_divisions() if d.level is DivisionLevel.county]
    assert len(counties) == 84
    by_unit = [
        code for unit in divisions.city_units() for code in (d.code for d in divisions.counties_of(unit.code))
    ]
    assert sorted(by_unit) == sorted(d.code for d in counties)


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("350206", "350200"),
        ("350128", "350128"),
        ("350102", "350100"),
        ("350200", "350200"),
        ("350000", None),
    ],
)
def test_city_unit_of(code: str, unit: str | None) -> None:
    assert divisions.city_unit_of(code) == unit


def test_unknown_codes_are_no_county_and_no_city_unit() -> None:
    assert divisions.get("359999") is None
    assert divisions.city_unit_of("359999") is None
    assert not divisions.is_county("359999")
    assert not divisions.is_county("350200")
    assert divisions.is_county("350206")


@pytest.mark.parametrize(("region", "bound"), [("350000", "36"), ("350200", "3503"), ("350206", "350207")])
def test_upper_bound_is_just_above_every_code_of_the_prefix(region: str, bound: str) -> None:
    assert RegionScope.for_region(region).upper_bound == bound


@pytest.mark.parametrize("region", REGIONS)
def test_scope_contains_exactly_the_codes_the_rules_give(region: str) -> None:
    scope = RegionScope.for_region(region)
    assert {c for c in _fujian() + OUTSIDERS if scope.contains(c)} == _expected(region)
    assert not scope.contains(None)


# ------------------------------------------------------------------------------ who sees a record


@pytest.mark.parametrize(
    "role_and_region",
    [(Role.province_admin, "350000"), (Role.city_admin, "350100"), (Role.city_admin, "350128"),
     (Role.county_admin, "350206"), (Role.city_platform, "350200")],
)  # fmt: skip
def test_an_administration_sees_records_of_its_region(role_and_region: tuple[Role, str]) -> None:
    role, region = role_and_region
    principal = _principal(role, region)
    seen = {c for c in _fujian() + OUTSIDERS if can_see(principal, region_code=c)}
    assert seen == _expected(region)
    assert not can_see(principal, region_code=None)


@pytest.mark.parametrize("role", [Role.institution_admin, Role.institution_staff])
def test_an_institution_user_sees_only_its_institutions_records(role: Role) -> None:
    principal = _principal(role, "350206", HOSPITAL)
    assert can_see(principal, region_code="350206", institution_ids=[HOSPITAL])
    assert can_see(principal, region_code="350102", institution_ids=[NURSING_HOME, HOSPITAL])
    assert not can_see(principal, region_code="350206", institution_ids=[NURSING_HOME])
    assert not can_see(principal, region_code="350206")
    assert not can_see(principal, region_code="350206", institution_ids=[None])
    orphan = _principal(role, "350206", None)
    assert not can_see(orphan, region_code="350206", institution_ids=[None])


def test_a_service_sees_everything() -> None:
    service = _principal(Role.service, "350000")
    assert can_see(service, region_code="350206")
    assert can_see(service, region_code=None)


def test_out_of_scope_reads_are_404_and_writes_403() -> None:
    county = _principal(Role.county_admin, "350206")
    with pytest.raises(NotFound) as read:
        ensure_visible(county, region_code="350203", what="机构")
    assert (read.value.status, read.value.code) == (404, "not_found")
    assert "机构" in read.value.detail
    with pytest.raises(Forbidden) as write:
        ensure_in_scope_for_write(county, region_code="350203", what="机构")
    assert (write.value.status, write.value.code) == (403, "out_of_scope")
    assert "机构" in write.value.detail
    ensure_visible(county, region_code="350206")
    ensure_in_scope_for_write(county, region_code="350206")
    nurse = _principal(Role.institution_staff, "350206", HOSPITAL)
    ensure_visible(nurse, region_code="350203", institution_ids=[HOSPITAL])
    ensure_in_scope_for_write(nurse, region_code="350203", institution_ids=[HOSPITAL])
    with pytest.raises(Forbidden):
        ensure_in_scope_for_write(nurse, region_code="350206", institution_ids=[NURSING_HOME])


# ------------------------------------------------------------------------------- the SQL condition


class _Base(DeclarativeBase):
    pass


class _Record(_Base):
    __tablename__ = "scoped_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    medical_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    elderly_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())


@pytest.fixture
async def records() -> AsyncIterator[AsyncSession]:
    """A throwaway in-memory table: one row per Fujian division and outsider, each also tagged with
    institutions (the hospital on county rows, the nursing home on 平潭's)."""
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session:
        for i, code in enumerate(_fujian() + OUTSIDERS):
            session.add(
                _Record(
                    id=i,
                    region_code=code,
                    medical_id=HOSPITAL if code == "350206" else None,
                    elderly_id=NURSING_HOME if code == "350128" else None,
                )
            )
        await session.commit()
        yield session
    await engine.dispose()


async def _selected(session: AsyncSession, principal: Principal, *columns: object) -> set[str]:
    institution_columns = columns[0] if len(columns) == 1 else columns
    condition = visible_condition(principal, _Record.region_code, institution_columns)  # type: ignore[arg-type]
    return set(await session.scalars(select(_Record.region_code).where(condition)))


@pytest.mark.parametrize("region", REGIONS)
async def test_the_sql_condition_selects_what_the_rules_give(records: AsyncSession, region: str) -> None:
    role = {"350000": Role.province_admin, "350128": Role.city_admin}.get(
        region, Role.city_admin if region.endswith("00") else Role.county_admin
    )
    assert await _selected(records, _principal(role, region)) == _expected(region)


async def test_the_sql_condition_of_a_service_is_all_of_fujian(records: AsyncSession) -> None:
    assert await _selected(records, _principal(Role.service, "350000")) == set(_fujian())


async def test_the_sql_condition_of_an_institution_user_is_its_institution(records: AsyncSession) -> None:
    hospital = _principal(Role.institution_admin, "350206", HOSPITAL)
    assert await _selected(records, hospital, _Record.medical_id) == {"350206"}
    assert await _selected(records, hospital, _Record.medical_id, _Record.elderly_id) == {"350206"}
    nursing_home = _principal(Role.institution_staff, "350128", NURSING_HOME)
    assert await _selected(records, nursing_home, _Record.medical_id, _Record.elderly_id) == {"350128"}
    assert await _selected(records, nursing_home, _Record.medical_id) == set()
    assert await _selected(records, nursing_home) == set()
    orphan = _principal(Role.institution_admin, "350206", None)
    assert await _selected(records, orphan, _Record.medical_id) == set()
