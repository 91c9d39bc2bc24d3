"""One elder, one person (issue 19): a homecare recipient and a contracts referral's resident are linked
to the residents' person index by ID number (find-or-create through the residents API, with each
service's token), so the same elder is one ``person_id`` everywhere; records registered while the index
was unreachable are linked by the linking command, which reports what it could not match.

The residents and registry apps are the package's (tests/residents/conftest.py); homecare runs here with
its person index pointing at the residents app in-process. One elder through ``POST /recipients`` and
``POST /referrals`` is one person: tests/cross_service/test_one_person.py (all the apps there).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Principal, Role, TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.http_client import StaticTokenSource
from libs.common.person_index import PersonIndex
from libs.common.testing import TestDatabases, Tokens, make_settings, running
from services.homecare.app import create_app as create_homecare_app
from services.homecare.recipients import person_link as recipient_link
from services.homecare.recipients import service as recipient_service
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import RecipientCreate
from services.homecare.settings import HomecareSettings
from services.residents.persons.models import Person
from tests.residents.world import HULI, PERSONS, id_number

HC = "/api/v1/homecare"


def _service(tokens: Tokens, caller: str) -> StaticTokenSource:
    return StaticTokenSource(
        tokens.token(Role.service, "350000", sub=f"service:{caller}", ttl=timedelta(hours=2))
    )


def _platform(tokens: Tokens) -> dict[str, str]:
    """厦门's city platform: registers recipients in its city (no serving institution)."""
    return tokens.headers(Role.city_platform, "350200", sub="client:platform-350200")


@pytest.fixture(scope="module")
async def residents_http(residents_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=residents_app), base_url="http://gateway"
    ) as http:
        yield http


@pytest.fixture(scope="module")
async def homecare_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_http: httpx.AsyncClient,
) -> AsyncIterator[FastAPI]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        settings = make_settings(
            HomecareSettings,
            test_databases,
            database_url=test_databases.url_for("link_homecare"),
            database_schema="link_homecare",
        )
        app = create_homecare_app(
            settings,
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=_service(tokens, "homecare"),
            residents_http=residents_http,
            residents_tokens=_service(tokens, "homecare"),
        )
        async with running(app):
            yield app


def _recipient(number: str, name: str = "陈阿婆") -> dict[str, object]:
    return {
        "name": name,
        "id_number": number,
        "phone": "13906001015",
        "address": "福建省厦门市湖里区江头街道台湾街 88 号",
        "region_code": HULI,
        "disability_level": 2,
        "consent": {"given_at": "2026-11-01T02:00:00Z", "method": "written", "signed_by": "self"},
    }


async def _person_ids(residents_app: FastAPI, number_hash: str) -> list[uuid.UUID]:
    database: Database = residents_app.state.database
    async with session_scope(database, write=False) as session:
        return list(
            (await session.scalars(select(Person.id).where(Person.id_number_hash == number_hash))).all()
        )


async def _recipient_person(homecare_app: FastAPI, recipient_id: str) -> uuid.UUID | None:
    database: Database = homecare_app.state.database
    async with session_scope(database, write=False) as session:
        recipient = await session.get(Recipient, uuid.UUID(recipient_id))
        assert recipient is not None
        return recipient.person_id


async def test_the_linking_command_links_the_unlinked_and_reports_the_unmatched(
    homecare_app: FastAPI, residents_app: FastAPI, residents_http: httpx.AsyncClient, tokens: Tokens
) -> None:
    # registered before recipients named their person (issue 19): no person
    numbers = [id_number(HULI), id_number(HULI)]
    platform = Principal(sub="client:platform-350200", role=Role.city_platform, region_code="350200")
    async with session_scope(homecare_app.state.database) as session:
        ids = [
            str(
                (
                    await recipient_service.create(
                        session,
                        platform,
                        homecare_app.state.cipher,
                        RecipientCreate.model_validate(_recipient(number)),
                        person_id=None,
                    )
                ).id
            )
            for number in numbers
        ]
    assert [await _recipient_person(homecare_app, i) for i in ids] == [None, None]
    # the second ID number is already a person of another name in the index: not the same elder
    taken = await residents_http.post(
        PERSONS,
        json={"name": "林阿公", "id_number": numbers[1], "region_code": HULI},
        headers=tokens.headers(Role.service, "350000", sub="service:homecare"),
    )
    assert taken.status_code == 201, taken.text

    index = PersonIndex(residents_http, _service(tokens, "homecare"))
    report = await recipient_link.link_existing(
        homecare_app.state.database, index, homecare_app.state.cipher, batch=1
    )
    assert report.linked >= 1
    unmatched = {str(recipient): code for recipient, code, _detail in report.unmatched}
    assert unmatched.get(ids[1]) == "person_name_mismatch"
    linked = await _recipient_person(homecare_app, ids[0])
    assert linked is not None
    assert await _person_ids(
        residents_app, residents_app.state.cipher.lookup_hash(numbers[0], "id_card")
    ) == [linked]
    assert await _recipient_person(homecare_app, ids[1]) is None
    # a second run has nothing new to link and reports the same one
    again = await recipient_link.link_existing(homecare_app.state.database, index, homecare_app.state.cipher)
    assert again.linked == 0
    assert [str(r) for r, _c, _d in again.unmatched] == [ids[1]]
