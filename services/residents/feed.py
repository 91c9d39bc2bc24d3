"""The residents service's change feed: one :class:`~libs.common.changes.FeedEntity` per tracked table.

Personal data (names, ID numbers, birth dates, phones, addresses) is never carried, not even masked: a
reader entitled to it reads the list, where it is masked per viewer and each disclosure is audited.
"""

from __future__ import annotations

from libs.common.changes import FeedEntity, feed_payload
from libs.common.feed_reasons import BLIND_INDEX, NOT_LISTED, PERSONAL
from services.residents.persons.models import Person
from services.residents.persons.schemas import PersonRead

PersonFeedPayload = feed_payload(
    "PersonFeedPayload",
    PersonRead,
    ["region_code", "township_code", "institution_id", "sex", "version", "created_at", "updated_at"],
)
PERSON = FeedEntity(
    model=Person,
    payload=PersonFeedPayload,
    permission="persons:read",
    shown_by=PersonRead,
    excluded={
        "id": "即条目的 entity_id",
        "name_enc": PERSONAL,
        "id_number_enc": PERSONAL,
        "id_number_hash": BLIND_INDEX,
        "phone_enc": PERSONAL,
        "address_enc": PERSONAL,
        "birth_date": PERSONAL,
        "source_system": NOT_LISTED,
        "external_id": NOT_LISTED,
        "created_by_sub": NOT_LISTED,
    },
)

FEED = [PERSON]
