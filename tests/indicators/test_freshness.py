"""Freshness and crash safety of the read model (issue 13, "Done when"), against the real services.

- A write in each source (an integrated institution, an agreement signed into force, a home bed opened)
  shows in ``GET /report`` once the running followers catch up: polled with a deadline.
- Followers cancelled hard, again and again, while a source writes a batch; a page cut off mid-transfer
  (the source gone in the middle of a page): afterwards the read model equals a fresh rebuild's and
  every record is counted once.

The expected figures are counted independently, per ``indicators.md``, from the source services' own
list endpoints read as the county's admin (never from the read model or the reports).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import func, select

from libs.common.auth import Role, TokenVerifier
from libs.common.database import session_scope
from libs.common.testing import running
from services.indicators.facts.models import InstitutionFact
from services.indicators.followers.follower import Follower
from services.indicators.rebuild import rebuild
from tests.cross_service.conftest import Live
from tests.cross_service.data import HOMECARE, REGISTRY, Writer, unique
from tests.indicators.conftest import Indicators, indicators_app_for
from tests.indicators.helpers import eventually, read_model

CONTRACTS = "/api/v1/contracts"
REPORT = "/api/v1/indicators/report"
SIGNED = ("countersigned", "active", "expired", "terminated")
CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year  # the sources date what they record today (homecare's own clock)


# --------------------------------------------------------------------- independent counts (sources)
async def _all(live: Live, client: httpx.AsyncClient, path: str, county: str, **params: Any) -> list[Any]:
    """Every item of a source's list endpoint, read as ``county``'s admin (its scope: the county)."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            path, params=query, headers=live.tokens.headers(Role.county_admin, county)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def source_institutions(live: Live, county: str) -> list[dict[str, Any]]:
    return [
        i
        for i in await _all(live, live.registry, f"{REGISTRY}/institutions", county)
        if i["region_code"] == county
    ]


async def independent(live: Live, county: str, year: int) -> dict[str, int]:
    """The numerators of three indicators of ``county`` for ``year``, as indicators.md defines them."""
    reference = date(year, 12, 31)
    end = datetime(year + 1, 1, 1, tzinfo=CHINA)  # a filing accepted before the next day, China time
    institutions = [i for i in await source_institutions(live, county) if i["active"]]
    filings = await _all(live, live.registry, "/api/v1/registry/filings", county, state="accepted")
    filed = {
        f["institution_id"]
        for f in filings
        if f["accepted_at"] is None or datetime.fromisoformat(f["accepted_at"]) < end
    }
    integrated = [
        i
        for i in institutions
        if i["kind"] == "integrated"
        or (i["kind"] == "elderly_care" and i["id"] in filed)
        or (i["kind"] == "medical" and i["beds_elderly_care"] > 0)
    ]
    agreements = await _all(live, live.contracts, f"{CONTRACTS}/agreements", county, region_code=county)

    def in_force(a: dict[str, Any]) -> bool:
        end_date = date.fromisoformat(a["end_date"])
        if a["state"] == "terminated" and a["terminated_on"]:
            end_date = min(end_date, date.fromisoformat(a["terminated_on"]))
        return a["state"] in SIGNED and date.fromisoformat(a["start_date"]) <= reference <= end_date

    pairs = {
        (a["medical_party"]["institution_id"], a["elderly_party"]["institution_id"])
        for a in agreements
        if a["region_code"] == county and in_force(a)  # counted in the elderly-care party's county
    }
    beds = await _all(live, live.homecare, f"{HOMECARE}/home-beds", county)
    opened = [
        b
        for b in beds
        if b["region_code"] == county
        and b["opened_date"] is not None
        and date.fromisoformat(b["opened_date"]).year == year
    ]
    return {
        "integrated_institutions": len(integrated),
        "signed_pairs": len(pairs),
        "home_beds_opened": len(opened),
    }


async def reported(live: Live, county: str, year: int) -> dict[str, int | None]:
    response = await live.gateway.get(
        REPORT,
        params={"region": county, "period": str(year)},
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    figures = {f["indicator"]: f["numerator"] for f in response.json()["region"]["figures"]}
    return {code: figures[code] for code in ("integrated_institutions", "signed_pairs", "home_beds_opened")}


# ----------------------------------------------------------------------------------- home beds
async def open_home_bed(live: Live, w: Writer, provider: dict[str, Any]) -> dict[str, Any]:
    """A home bed applied for by the provider, assessed and opened by its doctor (today)."""
    doctor = await live.registry.post(
        f"{REGISTRY}/practitioners",
        json={
            "institution_id": provider["id"],
            "name": unique("建床医师"),
            "kind": "doctor",
            "title": "attending_physician",
            "practice_certificate_no": unique("CERT"),
            "clinical_years": 8,
            "trainings": [],
        },
        headers=w.county(provider["region_code"]),
    )
    assert doctor.status_code == 201, doctor.text
    staff = live.tokens.headers(
        Role.institution_staff,
        provider["region_code"],
        institution_id=uuid.UUID(provider["id"]),
        practitioner_id=uuid.UUID(doctor.json()["id"]),
        sub=f"staff:{doctor.json()['id']}",
    )
    recipient = await w.recipient(provider)
    applied = await live.homecare.post(
        f"{HOMECARE}/home-beds",
        json={
            "recipient_id": recipient["id"],
            "diagnosis": "脑梗死后遗症",
            "condition_stable": True,
            "mobility": "bedridden",
            "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
            "has_family_doctor_contract": True,
        },
        headers=w.admin(provider),
    )
    assert applied.status_code == 201, applied.text
    bed = applied.json()
    for action, body in (
        ("assess", {}),
        ("open", {"care_plan": "每周查床", "consent_at": datetime.now(UTC).isoformat()}),
    ):
        current = await live.homecare.get(f"{HOMECARE}/home-beds/{bed['id']}", headers=w.admin(provider))
        response = await live.homecare.post(
            f"{HOMECARE}/home-beds/{bed['id']}/{action}",
            json=body,
            headers={**staff, "If-Match": current.headers["etag"]},
        )
        assert response.status_code == 200, (action, response.text)
    return dict(response.json())


# ------------------------------------------------------------------------------------- freshness
async def test_a_write_in_each_source_shows_in_the_report_once_the_followers_catch_up(
    indicators: Indicators, live: Live
) -> None:
    county = "350505"  # 泉港区
    indicators.followers.start(interval=0.05, backoff_initial=0.05, backoff_max=0.2)
    before = await independent(live, county, YEAR)

    async def report_shows(expected: dict[str, int]) -> bool:
        return await reported(live, county, YEAR) == expected

    await eventually(lambda: report_shows(before))  # caught up with what the sources already hold

    w = Writer(live)
    await w.institution(county, "integrated")
    hospital = await w.provider(county)
    home = await w.institution(county, beds_elderly_care=40)
    agreement = await w.agreement(hospital, home)
    assert agreement["state"] in SIGNED
    bed = await open_home_bed(live, w, hospital)
    assert bed["status"] == "opened"

    after = await independent(live, county, YEAR)
    assert after == {code: count + 1 for code, count in before.items()}  # one more of each, at the source
    await eventually(lambda: report_shows(after))


# -------------------------------------------------------------------------------- crash safety
async def _counts(indicators: Indicators, county: str) -> int:
    async with session_scope(indicators.database, write=False) as session:
        found = await session.scalar(
            select(func.count()).select_from(InstitutionFact).where(InstitutionFact.region_code == county)
        )
        return int(found or 0)


async def _rebuilt_equals_followed(indicators: Indicators) -> None:
    followed = await read_model(indicators.database)
    async with httpx.AsyncClient(transport=indicators.hops.gateway, base_url="http://gateway") as http:
        await rebuild(indicators.settings, database=indicators.database, gateway_http=http)
    assert await read_model(indicators.database) == followed


async def _hard_cancelled(follower: Follower, rng: random.Random) -> None:
    """Run the follower, then cancel its task at a random moment (mid-fetch, mid-transaction …)."""
    task = asyncio.create_task(follower.run(interval=0.01, backoff_initial=0.01, backoff_max=0.05))
    await asyncio.sleep(rng.uniform(0.0, 0.15))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_followers_killed_mid_stream_while_a_source_writes_lose_and_double_count_nothing(
    indicators: Indicators, live: Live, token_verifier: TokenVerifier
) -> None:
    county = "350526"  # 德化县
    rng = random.Random(13)
    w = Writer(live)
    small_pages = indicators.settings.model_copy(update={"follow_batch_size": 3})
    written: list[dict[str, Any]] = []

    async def write_batch() -> None:
        for n in range(24):
            if n % 3 == 0:
                institution = await w.institution(county, "integrated")
            else:
                institution = await w.institution(county, beds_elderly_care=10 + n)
            if n % 4 == 1:  # and some changes of what was written: more feed entries per record
                institution = await w.update_institution(institution, beds_elderly_care=99)
            written.append(institution)

    writer = asyncio.create_task(write_batch())
    kills = 0
    while not writer.done() or kills < 3:
        restarted = indicators_app_for(small_pages, token_verifier, indicators.hops)  # a new process
        async with running(restarted):
            await _hard_cancelled(restarted.state.followers["registry"], rng)
        kills += 1
    await writer

    restarted = indicators_app_for(indicators.settings, token_verifier, indicators.hops)
    async with running(restarted):
        await restarted.state.followers.catch_up()

    listed = await source_institutions(live, county)
    assert {i["id"] for i in written} <= {i["id"] for i in listed}
    assert await _counts(indicators, county) == len(listed)  # each record once
    expected = await independent(live, county, YEAR)
    assert (await reported(live, county, YEAR))["integrated_institutions"] == expected[
        "integrated_institutions"
    ]
    await _rebuilt_equals_followed(indicators)


class CutOff(httpx.AsyncBaseTransport):
    """The indicators → gateway hop, where a feed page breaks off halfway (the source gone mid-page)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.cut = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/changes") or self.cut >= 2:
            return response
        body = await response.aread()
        self.cut += 1

        async def broken() -> AsyncIterator[bytes]:
            yield body[: len(body) // 2]
            raise httpx.ReadError("connection reset mid-page", request=request)

        return httpx.Response(
            response.status_code, headers=response.headers, stream=_Stream(broken()), request=request
        )


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            yield chunk


async def test_a_page_broken_off_mid_transfer_applies_nothing_and_is_read_again(
    indicators: Indicators, live: Live
) -> None:
    county = "350583"  # 南安市
    w = Writer(live)
    for n in range(5):
        await w.institution(county, beds_elderly_care=20 + n)
    follower = indicators.followers["registry"]
    hop = indicators.hops.gateway
    assert hop.inner is not None
    real = hop.inner
    hop.inner = cut = CutOff(real)
    try:
        indicators.followers.start(interval=0.02, backoff_initial=0.02, backoff_max=0.05)

        async def recovered() -> bool:
            return cut.cut >= 2 and (await follower.stored_cursor()) is not None

        await eventually(recovered)
        await indicators.followers.stop()
    finally:
        hop.inner = real
    await indicators.followers.catch_up()

    listed = await source_institutions(live, county)
    assert await _counts(indicators, county) == len(listed) >= 5
    await _rebuilt_equals_followed(indicators)
