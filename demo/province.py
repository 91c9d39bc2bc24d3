"""The registry's demo province, read back for the other services' seeds (demo only).

The contracts and homecare seeds place their agreements, home beds and orders on the institutions the
registry's seed made. They never call the registry service: for the demo only, they read the registry's
demo database read-only (``RegistrySettings()`` from the environment ``deploy/local/run.py`` gives every
seed; the registry is seeded first). When that database holds no institutions (a seed run on its own, as in
a unit test) the province is empty and only the briefing's named story is seeded.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from libs.common.database import Database, session_scope
from services.registry.institutions.models import Institution
from services.registry.practitioners.models import Practitioner
from services.registry.settings import RegistrySettings

#: nurse titles of 护师 and above (rules.md: a home-care nurse holds 护师 or above)
NURSE_TITLES_ELIGIBLE = frozenset(
    {"senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse"}
)


@dataclass(frozen=True, slots=True)
class Place:
    """One active institution of the registry's demo, with what the seeds need of it."""

    id: uuid.UUID
    name: str
    kind: str
    category: str
    region_code: str
    hospital_grade: str | None
    ws218_kind_code: str | None
    latitude: float | None
    longitude: float | None
    operating_since: date | None
    beds_elderly_care: int
    home_bed_service: bool
    internet_nursing_provider: bool
    has_medical_unit: bool

    @property
    def is_home(self) -> bool:
        """养老机构 proper: an elderly-care home (not a 农村幸福院 or a day-care centre)."""
        return self.kind in ("elderly_care", "integrated") and self.category == "elderly_care_home"

    @property
    def is_medical(self) -> bool:
        return self.kind == "medical"


@dataclass(frozen=True, slots=True)
class Person:
    id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    kind: str
    title: str | None
    clinical_years: int

    @property
    def eligible_nurse(self) -> bool:
        return self.kind == "nurse" and self.clinical_years >= 5 and self.title in NURSE_TITLES_ELIGIBLE


@dataclass(frozen=True, slots=True)
class Province:
    places: list[Place]
    people: list[Person]


def _kind(value: object) -> str:
    return str(getattr(value, "value", value))


async def read_province(settings: RegistrySettings | None = None) -> Province:
    """Every active institution and practitioner of the registry's demo database (empty if none)."""
    database = Database(settings or RegistrySettings())
    try:
        async with session_scope(database, write=False) as session:
            rows = (
                await session.execute(
                    select(
                        Institution.id,
                        Institution.name,
                        Institution.kind,
                        Institution.category,
                        Institution.region_code,
                        Institution.hospital_grade,
                        Institution.ws218_kind_code,
                        Institution.latitude,
                        Institution.longitude,
                        Institution.operating_since,
                        Institution.beds_elderly_care,
                        Institution.home_bed_service,
                        Institution.internet_nursing_provider,
                        Institution.has_medical_unit,
                    )
                    .where(Institution.active.is_(True))
                    .order_by(Institution.region_code, Institution.name)
                )
            ).all()
            people = (
                await session.execute(
                    select(
                        Practitioner.id,
                        Practitioner.institution_id,
                        Practitioner.name,
                        Practitioner.kind,
                        Practitioner.title,
                        Practitioner.clinical_years,
                    )
                    .where(Practitioner.active.is_(True), Practitioner.misconduct_recorded.is_(False))
                    .order_by(Practitioner.institution_id, Practitioner.name, Practitioner.id)
                )
            ).all()
    except SQLAlchemyError:  # no registry database (a seed run on its own): the named story only
        return Province([], [])
    finally:
        await database.dispose()
    places = [
        Place(
            id=r.id,
            name=r.name,
            kind=_kind(r.kind),
            category=_kind(r.category),
            region_code=r.region_code,
            hospital_grade=_kind(r.hospital_grade) if r.hospital_grade is not None else None,
            ws218_kind_code=r.ws218_kind_code,
            latitude=r.latitude,
            longitude=r.longitude,
            operating_since=r.operating_since,
            beds_elderly_care=r.beds_elderly_care or 0,
            home_bed_service=bool(r.home_bed_service),
            internet_nursing_provider=bool(r.internet_nursing_provider),
            has_medical_unit=bool(r.has_medical_unit),
        )
        for r in rows
    ]
    persons = [
        Person(
            id=p.id,
            institution_id=p.institution_id,
            name=p.name,
            kind=_kind(p.kind),
            title=_kind(p.title) if p.title is not None else None,
            clinical_years=p.clinical_years or 0,
        )
        for p in people
    ]
    return Province(places, persons)


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (a large number when a point is missing)."""
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return 1e6
    la1, lo1, la2, lo2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


def apportion(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders), none above its cap; what a
    capped share cannot take goes to the others."""
    shares = [0] * len(weights)
    remaining = total
    open_ = [i for i, cap in enumerate(caps) if cap > 0 and weights[i] > 0]
    while remaining > 0 and open_:
        weight_sum = sum(weights[i] for i in open_)
        exact = {i: remaining * weights[i] / weight_sum for i in open_}
        floors = {i: min(int(exact[i]), caps[i] - shares[i]) for i in open_}
        given = sum(floors.values())
        leftover = remaining - given
        for i in sorted(open_, key=lambda i: exact[i] - int(exact[i]), reverse=True):
            if leftover <= 0:
                break
            if shares[i] + floors[i] < caps[i]:
                floors[i] += 1
                leftover -= 1
        for i, n in floors.items():
            shares[i] += n
        remaining = total - sum(shares)
        progress = sum(floors.values())
        open_ = [i for i in open_ if shares[i] < caps[i]]
        if progress == 0:
            break
    return shares
