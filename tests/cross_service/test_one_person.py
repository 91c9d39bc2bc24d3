"""One elder registered through homecare (``POST /recipients``) and through a referral (``POST
/contracts/referrals``) is one person of the residents' person index (issue 19): both records name the
same ``person_id`` and the residents hold one row for the ID number."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.database import session_scope
from services.contracts.referrals.models import Referral
from services.homecare.recipients.models import Recipient
from services.residents.persons.models import Person
from tests.cross_service.conftest import Live
from tests.cross_service.data import CONTRACTS, HOMECARE, Writer, id_number

HULI = "350206"


async def test_an_elder_through_homecare_and_a_referral_is_one_person(
    live: Live, homecare_app: FastAPI, contracts_app: FastAPI, residents_app: FastAPI
) -> None:
    w = Writer(live)
    number = id_number(HULI)
    provider = await w.provider(HULI)
    created = await live.homecare.post(
        f"{HOMECARE}/recipients",
        json=w.recipient_body(HULI, name="郑美华", id_number=number),
        headers=w.admin(provider),
    )
    assert created.status_code == 201, created.text

    medical, elderly = await w.institution(HULI, "medical"), await w.institution(HULI)
    agreement = await w.agreement(medical, elderly)
    referral = await live.contracts.post(
        f"{CONTRACTS}/referrals",
        json={
            "agreement_id": agreement["id"],
            "direction": "up",
            "urgency": "emergency",
            "reason": "夜间突发胸闷，需急诊评估",
            "resident": {"name": "郑美华", "id_number": number, "phone": "13700001111"},
        },
        headers=w.admin(elderly),
    )
    assert referral.status_code == 201, referral.text

    async with session_scope(homecare_app.state.database, write=False) as session:
        recipient_person = await session.scalar(
            select(Recipient.person_id).where(Recipient.id == uuid.UUID(created.json()["id"]))
        )
    async with session_scope(contracts_app.state.database, write=False) as session:
        referral_person = await session.scalar(
            select(Referral.person_id).where(Referral.id == uuid.UUID(referral.json()["id"]))
        )
    assert recipient_person is not None
    assert referral_person == recipient_person
    digest = residents_app.state.cipher.lookup_hash(number, "id_card")
    async with session_scope(residents_app.state.database, write=False) as session:
        persons = await session.scalar(
            select(func.count()).select_from(Person).where(Person.id_number_hash == digest)
        )
    assert persons == 1
