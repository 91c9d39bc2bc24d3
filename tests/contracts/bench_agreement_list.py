"""The agreement list, row path against the model path it replaced (issue 16; measured, not asserted).

Run: ``TEST_DATABASE=sqlite|postgresql .venv/bin/python -m pytest -q -s -p no:cacheprovider
tests/contracts/bench_agreement_list.py`` — 60 agreements (clones of a signed one with its contacts and
PDF, in the test's rolled-back transaction), ``GET /agreements?limit=50`` as the province admin; the old
path (ORM objects → ``service.present`` → ``Page[AgreementRead]`` as ``response_model``) is mounted on
the same app as ``/bench/old-agreements``, the bytes compared first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from libs.common.auth import Role
from libs.common.database import SessionDep
from libs.common.pagination import Page, PageDep
from libs.common.testing import Tokens
from services.contracts.agreements import service
from services.contracts.agreements.models import Agreement
from services.contracts.agreements.schemas import AgreementRead
from services.contracts.clock import ClockDep
from services.contracts.deps import CipherDep
from services.contracts.permissions import AgreementsRead
from tests.bench_lists import measure, report
from tests.contracts.agreements import list_reference
from tests.contracts.agreements.test_documents import PDF
from tests.contracts.flows import AGREEMENTS, admin_of, signed
from tests.contracts.registry_data import RegistryData

OLD = "/bench/old-agreements"


async def _old_list(
    session: SessionDep, principal: AgreementsRead, page: PageDep, clock: ClockDep, cipher: CipherDep
) -> Page[AgreementRead]:
    """The endpoint as it was (no filters given: the same code path)."""
    today = clock.today()
    rows, next_cursor = await list_reference.list_(session, principal, params=page, today=today)
    return Page(
        items=[service.present(r, today=today, cipher=cipher) for r in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


async def test_bench_agreement_list(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    uploaded = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/document",
        files={"file": ("协议.pdf", PDF, "application/pdf")},
        headers={**admin_of(tokens, medical), "If-Match": f'"{agreement["version"]}"'},
    )
    assert uploaded.status_code == 200, uploaded.text
    table = Agreement.__table__
    async with contracts_app.state.database.session() as session:
        row = dict(
            (await session.execute(select(table).where(table.c.id == uuid.UUID(agreement["id"]))))
            .one()
            ._mapping
        )
        now = datetime.now(UTC)
        clones = [
            {
                **row,
                "id": uuid.uuid4(),
                "elderly_institution_id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(59)
        ]
        await session.execute(insert(Agreement), clones)
        await session.commit()
    if not any(getattr(route, "path", None) == OLD for route in contracts_app.router.routes):
        contracts_app.add_api_route(OLD, _old_list, response_model=Page[AgreementRead])
    headers = tokens.headers(Role.province_admin)
    params = {"limit": 50}
    new = await client.get(AGREEMENTS, params=params, headers=headers)
    old = await client.get(OLD, params=params, headers=headers)
    assert new.content == old.content
    assert len(new.json()["items"]) == 50
    figures = await measure(client, [OLD, AGREEMENTS, "/healthz"], params, headers)
    print(report("GET /agreements?limit=50 (province admin)", figures))
