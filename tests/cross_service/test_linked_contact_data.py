"""A linked record's contact data is not lost (issue 19): an elder first registered in the residents'
person index from a contracts referral — which carries a phone but never an address — then linked from
a homecare recipient that carries the address. Linking clears the recipient's own copy of the identity,
so the person must take the address it lacks (residents' find-or-create fills, never overwrites):
otherwise the elder's home is gone and an order without its own address is refused (422 order_invalid).

The same through each way a recipient is linked: the linking command (after the referrals' command
registered the person), the city platform's bulk sync, and ``POST /recipients``. A person that already
holds an address keeps it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Principal, Role
from libs.common.clock import ManualClock
from libs.common.database import session_scope
from services.contracts.referrals import bulk as referral_bulk
from services.contracts.referrals import person_link as referral_link
from services.contracts.referrals.schemas import ReferralBulk
from services.homecare.recipients import person_link as recipient_link
from services.homecare.recipients import service as recipient_service
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient
from services.homecare.recipients.schemas import RecipientCreate
from services.residents.persons.models import Person
from tests.cross_service.conftest import Live
from tests.cross_service.data import CONTRACTS, HOMECARE, Writer, id_number, unique

HULI = "350206"


async def _home(residents_app: FastAPI, number: str) -> tuple[str | None, str | None]:
    """The person's (phone, address) as the residents hold them."""
    cipher = residents_app.state.cipher
    async with session_scope(residents_app.state.database, write=False) as session:
        person = await session.scalar(
            select(Person).where(Person.id_number_hash == cipher.lookup_hash(number, "id_card"))
        )
    assert person is not None
    return cipher.decrypt(person.phone_enc), cipher.decrypt(person.address_enc)


async def _order_address(live: Live, w: Writer, provider: dict[str, Any], recipient: dict[str, Any]) -> str:
    """The address of an order placed at the recipient's home (read whole by the provider)."""
    order = await w.order(provider, recipient)
    read = await live.homecare.get(f"{HOMECARE}/orders/{order['id']}", headers=w.admin(provider))
    assert read.status_code == 200, read.text
    return str(read.json()["address"])


async def _referral(live: Live, w: Writer, name: str, number: str) -> dict[str, Any]:
    """A referral of the elder through ``POST /referrals`` (its person found or registered: no address)."""
    medical, elderly = await w.institution(HULI, "medical"), await w.institution(HULI)
    agreement = await w.agreement(medical, elderly)
    response = await live.contracts.post(
        f"{CONTRACTS}/referrals",
        json={
            "agreement_id": agreement["id"],
            "direction": "up",
            "urgency": "emergency",
            "reason": "夜间突发胸闷，需急诊评估",
            "resident": {"name": name, "id_number": number, "phone": "13700001111"},
        },
        headers=w.admin(elderly),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_referrals_link_first_and_the_recipients_link_keeps_its_address(
    live: Live, homecare_app: FastAPI, contracts_app: FastAPI, residents_app: FastAPI, clock: ManualClock
) -> None:
    w = Writer(live)
    number, name = id_number(HULI), "黄国平"
    provider = await w.provider(HULI)
    medical, elderly = await w.institution(HULI, "medical"), await w.institution(HULI)
    agreement = await w.agreement(medical, elderly)
    # both records written before they named their person: each holds its own copy
    platform = Principal(sub="client:platform-350200", role=Role.city_platform, region_code="350200")
    request = ReferralBulk.model_validate(
        {
            "source_system": unique("link-"),
            "records": [
                {
                    "external_id": "R-1",
                    "agreement_id": agreement["id"],
                    "direction": "up",
                    "urgency": "emergency",
                    "reason": "夜间突发胸闷，需急诊评估",
                    "resident": {"name": name, "id_number": number, "phone": "13700001111"},
                    "requested_at": (clock.now() - timedelta(hours=1)).isoformat(),
                }
            ],
        }
    )
    async with session_scope(contracts_app.state.database) as session:
        imported = await referral_bulk.import_(
            session,
            platform,
            request,
            cipher=contracts_app.state.cipher,
            today=clock.today(),
            now=clock.now(),
            max_records=10,
            index=None,
        )
    assert imported.results[0].outcome == "created", imported
    body = w.recipient_body(HULI, name=name, id_number=number)
    admin = Principal(
        sub=f"admin:{provider['id']}",
        role=Role.institution_admin,
        region_code=HULI,
        institution_id=uuid.UUID(provider["id"]),
    )
    async with session_scope(homecare_app.state.database) as session:
        recipient = await recipient_service.create(
            session, admin, homecare_app.state.cipher, RecipientCreate.model_validate(body), person_id=None
        )
        recipient_id, version = str(recipient.id), recipient.version

    # the referrals' command first: it registers the person, without an address
    referrals = await referral_link.link_existing(
        contracts_app.state.database, contracts_app.state.person_index, contracts_app.state.cipher
    )
    assert imported.results[0].id not in {row for row, _code, _detail in referrals.unmatched}
    assert await _home(residents_app, number) == ("13700001111", None)
    recipients = await recipient_link.link_existing(
        homecare_app.state.database, homecare_app.state.person_index, homecare_app.state.cipher
    )
    assert uuid.UUID(recipient_id) not in {row for row, _code, _detail in recipients.unmatched}

    async with session_scope(homecare_app.state.database, write=False) as session:
        stored = await session.get(Recipient, uuid.UUID(recipient_id))
        assert stored is not None
        assert stored.person_id is not None
        assert all(getattr(stored, column) is None for column in IDENTITY_COLUMNS)  # the copy went
    # the phone the person held stays; the address it lacked is the recipient's
    assert await _home(residents_app, number) == ("13700001111", body["address"])
    assert (
        await _order_address(live, w, provider, {"id": recipient_id, "version": version}) == body["address"]
    )


async def test_the_city_sync_of_a_recipient_fills_the_address_its_person_lacks(
    live: Live, residents_app: FastAPI
) -> None:
    w = Writer(live)
    number, name = id_number(HULI), "黄国平"
    provider = await w.provider(HULI)
    await _referral(live, w, name, number)
    assert await _home(residents_app, number) == ("13700001111", None)
    record = {
        "external_id": unique("R-"),
        **w.recipient_body(HULI, name=name, id_number=number, institution_id=provider["id"]),
    }
    synced = await live.homecare.post(
        f"{HOMECARE}/recipients/bulk",
        json={"source_system": unique("sync-"), "records": [record]},
        headers=w.platform("350200"),
    )
    assert synced.status_code == 200, synced.text
    result = synced.json()["results"][0]
    assert result["outcome"] == "created", result
    assert await _home(residents_app, number) == ("13700001111", record["address"])
    assert await _order_address(live, w, provider, result) == record["address"]


async def test_a_recipient_registered_after_the_referral_gives_its_person_the_address(
    live: Live, residents_app: FastAPI
) -> None:
    w = Writer(live)
    number, name = id_number(HULI), "黄国平"
    provider = await w.provider(HULI)
    await _referral(live, w, name, number)
    body = w.recipient_body(HULI, name=name, id_number=number)
    created = await live.homecare.post(f"{HOMECARE}/recipients", json=body, headers=w.admin(provider))
    assert created.status_code == 201, created.text
    assert await _home(residents_app, number) == ("13700001111", body["address"])
    assert await _order_address(live, w, provider, created.json()) == body["address"]


async def test_a_person_holding_an_address_keeps_it(live: Live, residents_app: FastAPI) -> None:
    w = Writer(live)
    number = id_number(HULI)
    first, second = await w.provider(HULI), await w.provider(HULI)
    home = w.recipient_body(HULI, name="郑美华", id_number=number)
    created = await live.homecare.post(f"{HOMECARE}/recipients", json=home, headers=w.admin(first))
    assert created.status_code == 201, created.text
    elsewhere = {**home, "address": "福建省厦门市湖里区金山街道金湖路 101 号", "phone": "13906009999"}
    again = await live.homecare.post(f"{HOMECARE}/recipients", json=elsewhere, headers=w.admin(second))
    assert again.status_code == 201, again.text
    assert await _home(residents_app, number) == (home["phone"], home["address"])
    # an order at the person's home is at the address the person holds
    assert await _order_address(live, w, second, again.json()) == home["address"]


async def test_a_sync_batch_naming_one_elder_twice_gives_the_person_what_either_record_carries(
    live: Live, residents_app: FastAPI
) -> None:
    w = Writer(live)
    number = id_number(HULI)
    first, second = await w.provider(HULI), await w.provider(HULI)
    # one elder served by two providers: the first record has no phone, the second one
    without_phone = w.recipient_body(HULI, name="郑美华", id_number=number, institution_id=first["id"])
    del without_phone["phone"]
    with_phone = w.recipient_body(
        HULI, name="郑美华", id_number=number, institution_id=second["id"], address=without_phone["address"]
    )
    synced = await live.homecare.post(
        f"{HOMECARE}/recipients/bulk",
        json={
            "source_system": unique("sync-"),
            "records": [{"external_id": "A", **without_phone}, {"external_id": "B", **with_phone}],
        },
        headers=w.platform("350200"),
    )
    assert [r["outcome"] for r in synced.json()["results"]] == ["created", "created"], synced.text
    assert await _home(residents_app, number) == (with_phone["phone"], without_phone["address"])
