"""The one place that makes test data: registry institutions and practitioners (through the real
registry API, with the fields its schemas require today), and homecare providers, recipients, orders.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.identifiers import id_number_check_char
from libs.common.testing import Tokens
from services.homecare.catalog import templates

HC = "/api/v1/homecare"
REGISTRY = "/api/v1/registry"
HULI = "350206"
SIMING = "350203"
XIAMEN = "350200"
HOME = (24.5120, 118.1460)  # 湖里区, a recipient's home
_counter = itertools.count(1)
_default_births = itertools.count(1)
_sequences: dict[tuple[str, str], itertools.count[int]] = {}
_issued: set[str] = set()
DEFAULT_PRICES = {"HC01": "80.00", "HC05": "60.00", "HC20": "150.00"}


def id_number(region: str = HULI, birth: str | None = None) -> str:
    """A valid 居民身份证号 (GB 11643 check character), unique within the test session: each (region,
    birth date) has its own sequence of 1,000 numbers, and without a ``birth`` the date walks the days of
    1940 (336 of them, 336,000 numbers) — recipients of live tests are committed: a number reused later
    would find theirs, so the shared counter of names and phones must not decide it. The default walk and
    a given date's sequence meet on 1940's days: a number is not issued twice (the bulk sync registers its
    records' persons in the residents too, under the name the test gave) while a sequence lasts."""
    for _ in range(1000):
        if birth is None:
            n = next(_default_births)
            day = f"1940{1 + (n // 28_000) % 12:02d}{1 + (n // 1000) % 28:02d}"
            sequence = n % 1000
        else:
            day = birth
            sequence = next(_sequences.setdefault((region, birth), itertools.count())) % 1000
        body = f"{region}{day}{sequence:03d}"
        if body not in _issued:
            break
    _issued.add(body)
    return body + id_number_check_char(body)


def phone() -> str:
    return f"139{next(_counter) % 100_000_000:08d}"


def soon(hours: float = 2) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)


@dataclass(frozen=True)
class Inst:
    id: uuid.UUID
    name: str
    region_code: str


class World:
    def __init__(self, client: httpx.AsyncClient, registry: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client = client
        self.registry = registry
        self.tokens = tokens

    # ------------------------------------------------------------------------------------ callers
    def admin(self, inst: Inst) -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_admin, inst.region_code, institution_id=inst.id, sub=f"admin:{inst.id}"
        )

    def staff(self, inst: Inst, practitioner_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_staff,
            inst.region_code,
            institution_id=inst.id,
            practitioner_id=practitioner_id,
            sub=f"staff:{practitioner_id or inst.id}",
        )

    def county(self, code: str = HULI) -> dict[str, str]:
        return self.tokens.headers(Role.county_admin, code)

    def city(self, code: str = XIAMEN) -> dict[str, str]:
        return self.tokens.headers(Role.city_admin, code)

    def province(self) -> dict[str, str]:
        return self.tokens.headers(Role.province_admin, "350000")

    def platform(self, code: str = XIAMEN) -> dict[str, str]:
        return self.tokens.headers(Role.city_platform, code, sub=f"client:platform-{code}")

    # ----------------------------------------------------------------------------------- registry
    async def institution(
        self,
        name: str | None = None,
        *,
        region_code: str = HULI,
        kind: str = "medical",
        provider: bool = True,
        home_bed: bool = True,
    ) -> Inst:
        name = name or f"测试医院{next(_counter)}"
        body: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "category": {"medical": "hospital", "elderly_care": "elderly_care_home"}.get(
                kind, "integrated_institution"
            ),
            "region_code": region_code,
            "internet_nursing_provider": provider,
            "home_bed_service": home_bed,
        }
        if kind == "integrated":
            body["integrated_model"] = "medical_runs_elderly_care"
        response = await self.registry.post(
            f"{REGISTRY}/institutions", json=body, headers=self.tokens.headers(Role.county_admin, region_code)
        )
        assert response.status_code == 201, response.text
        return Inst(uuid.UUID(response.json()["id"]), name, region_code)

    async def practitioner(
        self,
        inst: Inst,
        *,
        kind: str = "nurse",
        title: str | None = None,
        years: int = 8,
        item_codes: list[str] | None = None,
        name: str | None = None,
    ) -> uuid.UUID:
        title = title or {"nurse": "supervising_nurse", "doctor": "attending_physician"}.get(kind)
        body: dict[str, Any] = {
            "institution_id": str(inst.id),
            "name": name or f"测试{next(_counter)}",
            "kind": kind,
            "title": title,
            "practice_certificate_no": f"CERT{next(_counter):08d}",
            "clinical_years": years,
            "trainings": [{"name": "专科护士培训", "item_codes": item_codes}] if item_codes else [],
        }
        response = await self.registry.post(
            f"{REGISTRY}/practitioners",
            json=body,
            headers=self.tokens.headers(Role.county_admin, inst.region_code),
        )
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["id"])

    # ----------------------------------------------------------------------------------- homecare
    async def provider(
        self,
        *,
        region_code: str = HULI,
        visit_fee: str = "50.00",
        prices: dict[str, str] | None = None,
    ) -> Inst:
        inst = await self.institution(region_code=region_code)
        response = await self.client.put(
            f"{HC}/providers/{inst.id}", json={"visit_fee_yuan": visit_fee}, headers=self.admin(inst)
        )
        assert response.status_code == 201, response.text
        for code, price in (prices if prices is not None else DEFAULT_PRICES).items():
            item = await self.client.put(
                f"{HC}/providers/{inst.id}/items/{code}", json={"price_yuan": price}, headers=self.admin(inst)
            )
            assert item.status_code == 200, item.text
        return inst

    def recipient_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "陈阿婆",
            "id_number": id_number(),
            "phone": phone(),
            "address": "福建省厦门市湖里区江头街道台湾街 88 号 3 单元 501",
            "region_code": HULI,
            "latitude": HOME[0],
            "longitude": HOME[1],
            "disability_level": 2,
            "dementia": False,
            "chronic_diseases": ["高血压", "2型糖尿病"],
            "emergency_contact": {"name": "陈小明", "relation": "儿子", "phone": phone()},
            "consent": {"given_at": "2026-11-01T02:00:00Z", "method": "written", "signed_by": "self"},
        }
        body.update(overrides)
        return body

    async def recipient(self, inst: Inst, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"{HC}/recipients", json=self.recipient_body(**overrides), headers=self.admin(inst)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def order(
        self,
        inst: Inst,
        recipient_id: str,
        *,
        items: list[str] | None = None,
        start: datetime | None = None,
        hours: float = 2,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        start = start or soon()
        body = {
            "institution_id": str(inst.id),
            "recipient_id": recipient_id,
            "item_codes": items or ["HC01"],
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=hours)).isoformat(),
            **extra,
        }
        response = await self.client.post(f"{HC}/orders", json=body, headers=headers or self.admin(inst))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def act(
        self,
        order_id: str,
        action: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
        *,
        if_match: str | None = None,
    ) -> httpx.Response:
        """POST a transition with the order's current ETag (unless ``if_match`` says otherwise)."""
        if if_match is None:
            current = await self.client.get(f"{HC}/orders/{order_id}", headers=self.county(HULI))
            if current.status_code == 200:
                if_match = current.headers["etag"]
            else:
                if_match = "*"
        return await self.client.post(
            f"{HC}/orders/{order_id}/{action}", json=body, headers={**headers, "If-Match": if_match}
        )


@dataclass
class Crew:
    """A provider with a homecare-eligible nurse, an ineligible nurse and a doctor, and one recipient."""

    provider: Inst
    nurse: uuid.UUID
    junior_nurse: uuid.UUID
    doctor: uuid.UUID
    recipient: dict[str, Any]


async def crew(world: World, *, nurse_items: list[str] | None = None) -> Crew:
    provider = await world.provider()
    nurse = await world.practitioner(
        provider, item_codes=nurse_items if nurse_items is not None else ["HC20"]
    )
    junior = await world.practitioner(provider, title="nurse", years=2)
    doctor = await world.practitioner(provider, kind="doctor")
    recipient = await world.recipient(provider)
    return Crew(provider, nurse, junior, doctor, recipient)


def located(
    lat: float = HOME[0], lng: float = HOME[1], *, at: datetime | None = None, mock: bool = False
) -> dict[str, Any]:
    return {
        "client_event_id": str(uuid.uuid4()),
        "client_at": (at or datetime.now(UTC)).isoformat(),
        "latitude": lat,
        "longitude": lng,
        "accuracy_m": 12.0,
        "is_mock_location": mock,
    }


async def to_status(world: World, c: Crew, order: dict[str, Any], status: str) -> None:
    """Move an order along the happy path up to ``status``."""
    path = [
        "assessed",
        "accepted",
        "assigned",
        "en_route",
        "checked_in",
        "in_service",
        "checked_out",
        "completed",
    ]
    steps: dict[str, tuple[str, dict[str, str], dict[str, Any] | None]] = {
        "assessed": ("assess", world.staff(c.provider, c.doctor), {"service_group": "chronic"}),
        "accepted": ("accept", world.admin(c.provider), None),
        "assigned": ("assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}),
        "en_route": ("depart", world.staff(c.provider, c.nurse), {}),
        "checked_in": ("check-in", world.staff(c.provider, c.nurse), None),
        "in_service": ("start", world.staff(c.provider, c.nurse), {}),
        "checked_out": ("check-out", world.staff(c.provider, c.nurse), None),
        "completed": ("complete", world.staff(c.provider, c.nurse), {}),
    }
    for step in path[: path.index(status) + 1]:
        action, headers, body = steps[step]
        if step in ("checked_in", "checked_out"):
            body = located()
        if step == "completed":
            await submit_record(world, c, order)
        response = await world.act(order["id"], action, headers, body)
        assert response.status_code == 200, (step, response.text)


def template_fields(item_codes: list[str]) -> dict[str, Any]:
    """Values of the non-vital fields the current record templates require for these items."""
    return dict(templates.sample_fields(templates.load().current_version, item_codes))


def record_body(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A visit record of the order's items that passes their record templates (photos aside: an item
    that needs photos needs uploaded attachments, see tests/homecare/attachments)."""
    now = datetime.now(UTC)
    items = [i["item_code"] for i in order["items"]]
    body: dict[str, Any] = {
        "record_id": str(uuid.uuid4()),
        "client_created_at": now.isoformat(),
        "client_updated_at": now.isoformat(),
        "items_done": items,
        "vital_signs": {
            "bp_systolic": 138,
            "bp_diastolic": 86,
            "pulse": 76,
            "respiration_rate": 18,
            "temperature_c": "36.6",
            "spo2": 97,
            "blood_glucose_mmol": "6.8",
        },
        "fields": template_fields(items),
        "consumables": [{"name": "一次性换药包", "qty": 2, "unit_price_yuan": "12.50"}],
        "notes": "生命体征平稳",
    }
    body.update(overrides)
    return body


async def submit_record(world: World, c: Crew, order: dict[str, Any], **overrides: Any) -> httpx.Response:
    response = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record",
        json=record_body(order, **overrides),
        headers=world.staff(c.provider, c.nurse),
    )
    assert response.status_code in (200, 201), response.text
    return response


async def scoped_record(world: World, c: Crew, kind: str) -> str:
    """The id of one record of ``kind`` (provider, recipient, home_bed, order, complaint, sos) of the crew's
    provider, for the scope tests; an SOS is raised on an order in service."""
    if kind == "provider":
        return str(c.provider.id)
    if kind == "recipient":
        return str(c.recipient["id"])
    if kind == "home_bed":
        created = await world.client.post(
            f"{HC}/home-beds",
            json={
                "recipient_id": c.recipient["id"],
                "diagnosis": "脑梗死后遗症",
                "condition_stable": True,
                "mobility": "bedridden",
                "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
                "has_family_doctor_contract": True,
            },
            headers=world.admin(c.provider),
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])
    order = await world.order(c.provider, c.recipient["id"])
    if kind == "order":
        return str(order["id"])
    if kind == "complaint":
        made = await world.client.post(
            f"{HC}/orders/{order['id']}/complaints",
            json={"content": "护士迟到"},
            headers=world.admin(c.provider),
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])
    assert kind == "sos", kind
    await to_status(world, c, order, "in_service")
    raised = await world.client.post(
        f"{HC}/orders/{order['id']}/sos",
        json={"client_event_id": str(uuid.uuid4()), "client_at": datetime.now(UTC).isoformat()},
        headers=world.staff(c.provider, c.nurse),
    )
    assert raised.status_code == 201, raised.text
    return str(raised.json()["id"])
