"""Issue 11, contracts: control characters in agreement text, and dates outside 1900–2100 (bodies and
query strings), are a 422 naming the field — never stored, never a 500."""

from __future__ import annotations

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.conftest import agreement_body
from tests.contracts.flows import AGREEMENTS, admin_of
from tests.contracts.registry_data import RegistryData


def field_codes(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"visit_staff": "全科医师\x0b1名"}, {"body.visit_staff": "control_character"}),
        (
            {"medical_contact": {"name": "李\x00主任", "phone": "13812345678"}},
            {"body.medical_contact.name": "control_character"},
        ),
        ({"end_date": "9999-12-31"}, {"body.end_date": "date_out_of_range"}),
        ({"start_date": 0}, {"body.start_date": "date_format"}),
    ],
)
async def test_a_hostile_agreement_field_is_a_422_naming_it(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    overrides: dict[str, object],
    expected: dict[str, str],
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly, **overrides), headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 422, response.text
    assert field_codes(response) == expected


async def test_multi_line_terms_keep_their_line_breaks(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    body = agreement_body(medical, elderly, visit_staff="全科医师1名\r\n护士1名\t（轮班）")
    response = await client.post(AGREEMENTS, json=body, headers=admin_of(tokens, elderly))
    assert response.status_code == 201, response.text
    assert response.json()["visit_staff"] == "全科医师1名\n护士1名\t（轮班）"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (
            "/api/v1/contracts/visits/shortfall/agreements",
            {"period_start": "0", "period_end": "2026-03-31"},
            "query.period_start",
        ),
        (
            "/api/v1/contracts/visits/shortfall/agreements",
            {"period_start": "2026-03-01", "period_end": "9999-12-31"},
            "query.period_end",
        ),
        ("/api/v1/contracts/agreements", {"ending_before": "0001-01-01"}, "query.ending_before"),
    ],
)
async def test_a_query_date_that_is_a_number_or_out_of_range_is_a_422(
    client: httpx.AsyncClient, tokens: Tokens, path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(path, params=params, headers=tokens.headers(Role.province_admin))
    assert response.status_code == 422, response.text
    assert list(field_codes(response)) == [field]
