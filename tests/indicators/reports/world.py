"""A randomised read model, and the indicators computed from it in plain Python from indicators.md.

Nothing here imports the reports: the expectations are the definitions of indicators.md (and rules.md for
"in force") applied to the fixture rows.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from libs.common import divisions
from libs.common.database import Database, session_scope
from services.indicators.facts.models import (
    AgreementFact,
    FilingFact,
    HomeBedFact,
    InstitutionFact,
    InstitutionYearStatFact,
    OrderFact,
    RatingFact,
    ReferralFact,
    RoundVisitFact,
)

CHINA = timezone(timedelta(hours=8))
# two counties of 福州, two of 厦门, and 平潭 (a city-level unit, carved out of 福州)
COUNTIES = ("350102", "350104", "350203", "350206", "350128")
YEAR = 2025
REF = date(2025, 12, 31)
END = datetime(2026, 1, 1, tzinfo=CHINA)  # moments before it are in 2025
START = datetime(2025, 1, 1, tzinfo=CHINA)
MEDICAL_CATEGORIES = ("hospital", "community_health_center", "township_health_center", "clinic")
ELDERLY_CATEGORIES = ("elderly_care_home", "rural_happiness_home", "day_care_center")


def city_of(county: str) -> str:
    return "350128" if county == "350128" else county[:4] + "00"


def counties_in(region: str) -> set[str]:
    """Every county of the divisions list in ``region`` (平潭 belongs to itself, not to 福州)."""
    every = {d.code for d in divisions.all_divisions() if d.level.value == "county"}
    if region == "350000":
        return every
    return {c for c in every if city_of(c) == region or c == region}


@dataclass
class World:
    institutions: list[dict[str, Any]] = field(default_factory=list)
    filings: list[dict[str, Any]] = field(default_factory=list)
    agreements: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    home_beds: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    year_stats: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)

    def institution(self, id_: uuid.UUID) -> dict[str, Any]:
        return next(i for i in self.institutions if i["id"] == id_)


def _meta(rng: random.Random, region: str | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "region_code": region,
        "version": 1,
        "source_seq": rng.randint(1, 10**6),
        "changed_at": datetime(2026, 1, 5, tzinfo=UTC),
    }


def build(seed: int) -> World:
    rng = random.Random(seed)
    w = World()
    for _ in range(60):
        county = rng.choice(COUNTIES)
        kind = rng.choice(["medical", "medical", "elderly_care", "elderly_care", "integrated"])
        if kind == "medical":
            category = rng.choice(MEDICAL_CATEGORIES)
        elif kind == "elderly_care":
            category = rng.choice(ELDERLY_CATEGORIES)
        else:
            category = rng.choice(["integrated_institution", "elderly_care_home", "hospital"])
        w.institutions.append(
            {
                **_meta(rng, county),
                "name": f"机构{len(w.institutions):02d}",
                "kind": kind,
                "category": category,
                "active": rng.random() < 0.9,
                "has_medical_unit": kind != "elderly_care",
                "hospital_grade": rng.choice(["grade_1", "grade_2", "grade_3", "ungraded", None])
                if kind != "elderly_care"
                else None,
                "hospital_type": None,
                "ownership": rng.choice(["public", "private"]),
                "elderly_care_ownership": None,
                "integrated_model": None,
                "internet_nursing_provider": False,
                "home_bed_service": False,
                "beds_elderly_care": rng.choice([0, 0, rng.randint(1, 300)]),
                "beds_medical": rng.randint(0, 300) if kind != "elderly_care" else 0,
                "beds_integrated": 0,
                "beds_nursing": 0,
                "beds_hospice": 0,
                "residents": rng.choice([0, rng.randint(1, 100), rng.randint(100, 300)]),
                "elderly_green_channel": rng.random() < 0.6,
                "hospice_care": rng.random() < 0.2,
                # recognised before, in, or after 2025, or never; the registry derives the flag from it
                "elderly_friendly_year": rng.choice([None, None, 2019, 2025, 2026]),
                "national_demonstration_year": None,
                "provincial_demonstration_year": None,
            }
        )
    for i in w.institutions:
        i["elderly_friendly"] = i["elderly_friendly_year"] is not None
        # year-end residents of some years (none at all for some): 入住 100 人以上 reads these, not
        # today's ``residents``
        for year in rng.sample([2023, 2024, 2025, 2026], k=rng.randint(0, 3)):
            w.year_stats.append(
                {
                    **_meta(rng, i["region_code"]),
                    "institution_id": i["id"],
                    "year": year,
                    "operating_beds": 200,
                    "occupied_bed_days": 0,
                    "residents": rng.choice([rng.randint(0, 100), rng.randint(101, 300)]),
                    "disabled_or_dementia_residents": 0,
                }
            )
    elderly = [i for i in w.institutions if i["kind"] == "elderly_care"]
    medical = [i for i in w.institutions if i["kind"] in ("medical", "integrated")]
    for home in rng.sample(elderly, k=len(elderly) // 2):
        w.filings.append(
            {
                **_meta(rng, home["region_code"]),
                "institution_id": home["id"],
                "unit_kind": "infirmary",
                "unit_name": "医务室",
                "state": rng.choice(["accepted", "accepted", "revoked", "draft"]),
                "filing_no": None,
                # accepted in 2025, or on 2026-01-01 00:30 China (after the reference date)
                "accepted_at": rng.choice(
                    [datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 12, 31, 16, 30, tzinfo=UTC)]
                ),
            }
        )
    for _ in range(45):
        hospital, home = rng.choice(medical), rng.choice(elderly + medical[:3])
        state = rng.choice(["draft", "active", "active", "expired", "terminated", "countersigned"])
        start = date(2025, 1, 1) + timedelta(days=rng.randint(-400, 400))
        end = start + timedelta(days=rng.choice([200, 365, 730]))
        terminated_on = None
        if state == "terminated":
            # terminated before, on, or after the reference date
            terminated_on = rng.choice([date(2025, 10, 1), REF, date(2026, 2, 1)])
        agreement = {
            **_meta(rng, home["region_code"]),
            "title": None,
            "state": state,
            "start_date": start,
            "end_date": end,
            "activated_at": None,
            "expired_at": None,
            "terminated_at": None,
            "terminated_on": terminated_on,
            "visit_count": rng.randint(1, 4),
            "visit_period": rng.choice(["week", "month"]),
            "medical_institution_id": hospital["id"],
            "medical_name": hospital["name"],
            "medical_region_code": hospital["region_code"],
            "elderly_institution_id": home["id"],
            "elderly_name": home["name"],
            "elderly_region_code": home["region_code"],
        }
        w.agreements.append(agreement)
        for _ in range(rng.randint(0, 6)):
            w.visits.append(
                {
                    **_meta(rng, home["region_code"]),
                    "agreement_id": agreement["id"],
                    "medical_institution_id": hospital["id"],
                    "elderly_institution_id": home["id"],
                    "visit_date": date(2024, 12, 1) + timedelta(days=rng.randint(0, 420)),
                    "residents_seen": 3,
                }
            )
    for _ in range(30):
        provider = rng.choice(medical)
        opened = rng.choice([None, date(2025, 1, 1) + timedelta(days=rng.randint(-60, 420))])
        # closed on the period's first or last day, just outside it, or not closed
        closed = rng.choice([None, date(2025, 1, 1), REF, date(2024, 12, 31), date(2026, 1, 1)])
        if opened is None or closed is None or closed < opened:
            closed = None
        w.home_beds.append(
            {
                **_meta(rng, rng.choice([provider["region_code"], rng.choice(COUNTIES)])),
                "institution_id": provider["id"],
                "provider_name": provider["name"],
                "status": "closed" if closed else "opened" if opened else "applied",
                "opened_date": opened,
                "closed_date": closed,
            }
        )
    for _ in range(30):
        provider = rng.choice(medical)
        created = rng.choice(
            [
                datetime(2024, 12, 31, 16, 30, tzinfo=UTC),  # 2025-01-01 00:30 China: in 2025
                datetime(2024, 12, 31, 15, 30, tzinfo=UTC),  # 2024-12-31 23:30 China: not
                datetime(2025, 12, 31, 15, 59, tzinfo=UTC),  # 2025-12-31 23:59 China: in
                datetime(2025, 12, 31, 16, 0, tzinfo=UTC),  # 2026-01-01 00:00 China: not
                datetime(2025, 7, 1, tzinfo=UTC),
            ]
        )
        w.orders.append(
            {
                **_meta(rng, provider["region_code"]),
                "institution_id": provider["id"],
                "status": "completed",
                "created_at": created,
                "window_start": None,
                "nurse_practitioner_id": None,
                "home_bed_id": rng.choice([None, rng.choice(w.home_beds)["id"]]),
            }
        )
    # home-bed services: orders of the beds, each rated (or not) on its own, score 1–5
    for _ in range(40):
        bed = rng.choice(w.home_beds)
        w.orders.append(
            {
                **_meta(rng, bed["region_code"]),
                "institution_id": bed["institution_id"],
                "status": "completed",
                "created_at": datetime(2025, 3, 1, tzinfo=UTC),
                "window_start": None,
                "nurse_practitioner_id": None,
                "home_bed_id": bed["id"],
            }
        )
    for order in w.orders:
        if rng.random() < 0.8:
            w.ratings.append(
                {
                    **_meta(rng, order["region_code"]),
                    "order_id": order["id"],
                    "score": rng.randint(1, 5),
                    "rated_by": "family",
                    # before the reference date's end (China), or just after it
                    "rated_at": rng.choice(
                        [
                            datetime(2025, 6, 1, tzinfo=UTC),
                            datetime(2025, 12, 31, 15, 59, tzinfo=UTC),
                            datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
                        ]
                    ),
                }
            )
    for _ in range(25):
        a = rng.choice(w.agreements)
        up = rng.random() < 0.6
        state = rng.choice(["requested", "accepted", "declined", "cancelled", "returned"])
        requested = rng.choice(
            [
                datetime(2024, 12, 31, 16, 0, tzinfo=UTC),  # 2025-01-01 00:00 China: in
                datetime(2024, 12, 31, 15, 59, tzinfo=UTC),  # 2024: not
                datetime(2025, 12, 31, 15, 59, tzinfo=UTC),  # in
                datetime(2025, 12, 31, 16, 0, tzinfo=UTC),  # 2026: not
                datetime(2025, 5, 1, tzinfo=UTC),
            ]
        )
        accepted = None
        if state in ("accepted", "returned"):
            accepted = requested + timedelta(minutes=rng.randint(1, 600), seconds=rng.choice([0, 30]))
        w.referrals.append(
            {
                **_meta(rng, a["elderly_region_code"]),
                "agreement_id": a["id"],
                "direction": "up" if up else "down",
                "urgency": None,
                "from_institution_id": a["elderly_institution_id" if up else "medical_institution_id"],
                "to_institution_id": a["medical_institution_id" if up else "elderly_institution_id"],
                "state": state,
                "requested_at": requested,
                "accepted_at": accepted,
                "admitted_at": None,
                "returned_at": None,
                "closed_at": None,
            }
        )
    return w


async def store(database: Database, w: World) -> None:
    async with session_scope(database) as session:
        for model, rows in (
            (InstitutionFact, w.institutions),
            (FilingFact, w.filings),
            (AgreementFact, w.agreements),
            (RoundVisitFact, w.visits),
            (HomeBedFact, w.home_beds),
            (OrderFact, w.orders),
            (InstitutionYearStatFact, w.year_stats),
            (RatingFact, w.ratings),
            (ReferralFact, w.referrals),
        ):
            session.add_all(model(**row) for row in rows)


# ------------------------------------------------------------------------ indicators.md, in Python
def _integrated(w: World, i: dict[str, Any]) -> bool:
    """kind integrated; elderly-care with an accepted 内设医疗机构 filing (by the reference date);
    a medical institution with registered elderly-care beds (两证齐全)."""
    if i["kind"] == "integrated":
        return True
    if i["kind"] == "elderly_care":
        return any(
            f["institution_id"] == i["id"] and f["state"] == "accepted" and f["accepted_at"] < END
            for f in w.filings
        )
    return bool(i["beds_elderly_care"] > 0)


def in_force(a: dict[str, Any], day: date = REF) -> bool:
    if a["state"] not in ("countersigned", "active", "expired", "terminated"):
        return False
    end = a["end_date"]
    if a["state"] == "terminated" and a["terminated_on"] is not None:
        end = min(end, a["terminated_on"])
    return bool(a["start_date"] <= day <= end)


def year_residents(w: World, i: dict[str, Any], year: int = YEAR) -> int | None:
    """入住人数 of ``year``: that year's year-end figure, else the latest earlier year's (the documented
    fallback), else unknown (None) — never today's ``residents``."""
    known = [s for s in w.year_stats if s["institution_id"] == i["id"] and s["year"] <= year]
    return max(known, key=lambda s: s["year"])["residents"] if known else None


@dataclass(frozen=True)
class Unit:
    county: str
    key: tuple[str, ...]  # the record id (and the related id of a pair)
    num: int
    den: int | None


def units(w: World, code: str, only: uuid.UUID | None = None) -> list[Unit]:
    """The records behind ``code`` in 2025, each in its county (``only``: an institution's own)."""
    active = [i for i in w.institutions if i["active"]]
    medical = [i for i in active if i["kind"] in ("medical", "integrated")]
    found: list[Unit] = []

    def add(
        county: str, key: tuple[uuid.UUID, ...], num: int, den: int | None, parties: tuple[Any, ...]
    ) -> None:
        if only is None or only in parties:
            found.append(Unit(county, tuple(str(k) for k in key), num, den))

    if code in ("integrated_institutions", "integrated_beds"):
        for i in active:
            if _integrated(w, i):
                beds = i["beds_medical"] + i["beds_elderly_care"]
                add(
                    i["region_code"],
                    (i["id"],),
                    1 if code == "integrated_institutions" else beds,
                    None,
                    (i["id"],),
                )
    elif code == "public_integrated_beds_per_10k":
        for i in medical:
            if _integrated(w, i) and i["ownership"] == "public":
                add(
                    i["region_code"], (i["id"],), i["beds_medical"] + i["beds_elderly_care"], None, (i["id"],)
                )
    elif code == "signed_pairs":
        pairs: dict[tuple[str, uuid.UUID, uuid.UUID], None] = {}
        for a in w.agreements:
            if in_force(a):
                # indicators.md: distinct pairs, and counties add up to the province: one county each,
                # the elderly-care party's (where the agreement lives)
                pairs[
                    (a["elderly_region_code"], a["medical_institution_id"], a["elderly_institution_id"])
                ] = None
        for county, m, e in pairs:
            add(county, (m, e), 1, None, (m, e))
    elif code == "agreement_coverage":
        for i in active:
            if i["kind"] in ("elderly_care", "integrated") and i["category"] not in (
                "rural_happiness_home",
                "day_care_center",
            ):
                signed = any(a["elderly_institution_id"] == i["id"] and in_force(a) for a in w.agreements)
                add(i["region_code"], (i["id"],), int(signed or _integrated(w, i)), 1, (i["id"],))
    elif code == "green_channel_rate":
        for i in medical:
            if i["hospital_grade"] in ("grade_1", "grade_2", "grade_3"):
                add(i["region_code"], (i["id"],), int(i["elderly_green_channel"]), 1, (i["id"],))
    elif code == "large_homes_integrated":
        for i in active:
            residents = year_residents(w, i)
            if i["kind"] in ("elderly_care", "integrated") and residents is not None and residents > 100:
                add(i["region_code"], (i["id"],), int(_integrated(w, i)), 1, (i["id"],))
    elif code == "elder_friendly_rate":
        for i in medical:
            year = i["elderly_friendly_year"]
            add(i["region_code"], (i["id"],), int(year is not None and year <= YEAR), 1, (i["id"],))
    elif code == "hospice_counties":
        for i in medical:
            if i["hospice_care"]:
                add(i["region_code"], (i["id"],), 1, None, (i["id"],))
    elif code in ("home_beds_opened", "home_bed_providers"):
        seen = set()
        for b in w.home_beds:
            if b["opened_date"] is not None and b["opened_date"].year == YEAR:
                if code == "home_beds_opened":
                    add(b["region_code"], (b["id"],), 1, None, (b["institution_id"],))
                elif (b["region_code"], b["institution_id"]) not in seen:
                    seen.add((b["region_code"], b["institution_id"]))
                    add(b["region_code"], (b["institution_id"],), 1, None, (b["institution_id"],))
    elif code == "homecare_orders":
        for o in w.orders:
            if START <= o["created_at"] < END:
                add(o["region_code"], (o["id"],), 1, None, (o["institution_id"],))
    elif code == "home_bed_satisfaction":
        # satisfied = score ≥ 4 of 1–5 (homecare's satisfaction report); ratings of the orders done for
        # a bed closed in the period, given by the reference date
        for b in w.home_beds:
            if b["status"] == "closed" and b["closed_date"].year == YEAR:
                orders = {o["id"] for o in w.orders if o["home_bed_id"] == b["id"]}
                scores = [r["score"] for r in w.ratings if r["order_id"] in orders and r["rated_at"] < END]
                satisfied = sum(1 for score in scores if score >= 4)
                add(b["region_code"], (b["id"],), satisfied, len(scores), (b["institution_id"],))
    elif code == "referrals":
        for r in w.referrals:
            if START <= r["requested_at"] < END:
                add(r["region_code"], (r["id"],), 1, None, (r["from_institution_id"], r["to_institution_id"]))
    elif code == "round_visits_done":
        for a in w.agreements:
            if in_force(a):
                done = sum(
                    1 for v in w.visits if v["agreement_id"] == a["id"] and v["visit_date"].year == YEAR
                )
                owed = a["visit_count"] * (52 if a["visit_period"] == "week" else 12)
                parties = (a["medical_institution_id"], a["elderly_institution_id"])
                add(a["elderly_region_code"], (a["id"],), done, owed, parties)
    else:
        raise AssertionError(code)
    return found


RATES = (
    "agreement_coverage",
    "green_channel_rate",
    "large_homes_integrated",
    "elder_friendly_rate",
    "round_visits_done",
    "home_bed_satisfaction",
)
COUNTS = (
    "integrated_institutions",
    "integrated_beds",
    "signed_pairs",
    "home_bed_providers",
    "home_beds_opened",
    "homecare_orders",
    "referrals",
)
COMPUTED = (*COUNTS, *RATES, "hospice_counties", "public_integrated_beds_per_10k")
MISSING = {
    "health_management_rate": "居民服务尚未上线",
    "elder_checkups": "居民服务尚未上线",
    "family_doctor_signing_rate": "居民服务尚未上线",
    "family_doctor_renewal_rate": "居民服务尚未上线",
    "disabled_elder_assessments": "居民服务尚未上线",
}


def median_response_minutes(w: World, region: str) -> float | None:
    """双向转诊 median response time: request → accept, in minutes, over the referrals requested in 2025
    in ``region`` that were accepted (as the contracts' referral statistics measure it)."""
    counties = counties_in(region)
    minutes = sorted(
        (r["accepted_at"] - r["requested_at"]).total_seconds() / 60
        for r in w.referrals
        if r["region_code"] in counties and START <= r["requested_at"] < END and r["accepted_at"]
    )
    if not minutes:
        return None
    middle = len(minutes) // 2
    return float(minutes[middle] if len(minutes) % 2 else (minutes[middle - 1] + minutes[middle]) / 2)


def expected(
    w: World, code: str, region: str, residents: dict[str, int] | None = None, only: uuid.UUID | None = None
) -> tuple[int | None, int | None, float | None]:
    """(numerator, denominator, value) of ``code`` for ``region`` in 2025."""
    counties = counties_in(region)
    mine = [u for u in units(w, code, only) if u.county in counties]
    if code == "hospice_counties":
        with_hospice = {u.county for u in mine}
        return len(with_hospice), len(counties), len(with_hospice) / len(counties)
    numerator = sum(u.num for u in mine)
    if code == "public_integrated_beds_per_10k":
        if residents is None or not counties <= set(residents):
            return numerator, None, None
        people = sum(residents[c] for c in counties)
        return numerator, people, numerator * 10_000 / people
    if code in RATES:
        denominator = sum(u.den or 0 for u in mine)
        return numerator, denominator, (numerator / denominator) if denominator else None
    return numerator, None, float(numerator)
