"""Request bodies and small helpers shared by the registry's tests."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx

from demo.registry import make_uscc
from libs.common.auth import Role
from libs.common.testing import Tokens

INSTITUTIONS = "/api/v1/registry/institutions"
FILINGS = "/api/v1/registry/filings"
PRACTITIONERS = "/api/v1/registry/practitioners"
_serial = itertools.count(1)


def unique_uscc(region_code: str = "350206") -> str:
    """A valid USCC, different at each call (and across test runs on a live database)."""
    org = uuid.uuid4().hex.upper()[:8].translate(str.maketrans("IOSVZ", "12345"))
    return make_uscc(f"52{region_code}{org}{next(_serial) % 10}")


def institution_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "湖里区测试护理院",
        "kind": "elderly_care",
        "category": "elderly_care_home",
        "elderly_care_ownership": "private",
        "ownership": "private",
        "uscc": unique_uscc(overrides.get("region_code", "350206")),
        "region_code": "350206",
        "address": "厦门市湖里区测试路1号",
        "lat": 24.512,
        "lng": 118.146,
        "operating_since": "2015-06-01",
        "elderly_care_operating_since": "2015-06-01",
        "legal_person": "张三",
        "contact_name": "李四",
        "contact_phone": "13812345678",
        "beds_elderly_care": 120,
        "residents": 80,
        "disabled_level_1": 10,
        "disabled_level_2": 10,
        "disabled_level_3": 5,
        "disabled_level_4": 5,
        "dementia_residents": 6,
    }
    body.update(overrides)
    return body


def hospital_body(**overrides: Any) -> dict[str, Any]:
    body = institution_body(
        name="湖里区测试医院",
        kind="medical",
        category="hospital",
        hospital_grade="grade_2",
        hospital_type="general",
        elderly_care_ownership=None,
        ownership="private",
        ws218_kind_code="A100",
        licence_type="practice_licence",
        beds_elderly_care=0,
        beds_medical=200,
        residents=0,
        disabled_level_1=0,
        disabled_level_2=0,
        disabled_level_3=0,
        disabled_level_4=0,
        dementia_residents=0,
        internet_nursing_provider=True,
    )
    body["licence_no"] = f"{body['uscc'][8:17]}35020621A1002"
    body.update(overrides)
    return body


async def create_institution(
    client: httpx.AsyncClient, tokens: Tokens, body: dict[str, Any] | None = None, **overrides: Any
) -> dict[str, Any]:
    body = body or institution_body(**overrides)
    response = await client.post(
        INSTITUTIONS, json=body, headers=tokens.headers(Role.county_admin, body["region_code"])
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def practitioner_body(institution_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "institution_id": institution_id,
        "name": "林测试",
        "kind": "nurse",
        "title": "supervising_nurse",
        "practice_certificate_no": "201835020001",
        "clinical_years": 8,
        "id_card": "11010519491231002X",
        "phone": "13912345678",
        "trainings": [
            {
                "name": "PICC 维护专科护士培训",
                "certificate_no": "PX-001",
                "issued_date": "2022-05-01",
                "item_codes": ["HC16"],
            }
        ],
    }
    body.update(overrides)
    return body
