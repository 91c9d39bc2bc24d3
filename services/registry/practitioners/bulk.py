"""``POST /practitioners/bulk``: practitioners pushed in bulk (a city platform's roster, years of records
of a platform joining, the demo province), keyed by (source_system, external_id).

A record is the body of ``POST /practitioners`` (so the ID number obeys GB 11643 and the title fits the
kind, as in the single write) plus its key and whether the person still works there (``active``). The
institution is found as ``institutions.get`` finds it (404 ``institution_not_found`` when unknown or out
of sight) and checked by :func:`service.check_institution` (in the caller's scope, active); the columns
are built by :func:`service.column_values` (ID number and phone encrypted, the ID number blind-indexed).
A record matched by its key is an update with the rules of ``PATCH /practitioners/{id}``: the fields it
carries change, the title must still fit the kind (``title_does_not_fit_kind``); its institution does not
change (``practitioner_institution_fixed``).

The lookups are made for the whole batch (institutions, keys: two SELECTs); a record is checked in full
before anything of it is written; the new ones are written through the ORM (one multi-row INSERT at
flush, a change-feed entry each, in request order), audit records through :func:`bulk.audit_written`
(``practitioner.create`` / ``.update``, personal data masked). A replay finds every record unchanged
(personal data compared decrypted) and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import bulk
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse, open_batch
from libs.common.errors import Unprocessable
from libs.common.personal_data import PersonalDataCipher
from libs.common.scope import can_see
from services.registry.institutions.errors import InstitutionNotFound
from services.registry.institutions.models import Institution
from services.registry.practitioners import service
from services.registry.practitioners.errors import PractitionerInstitutionFixed
from services.registry.practitioners.models import Practitioner
from services.registry.practitioners.schemas import (
    PractitionerBulkRequest,
    PractitionerRecord,
    _check_title,
)

#: the fields of a record that are not columns of the same name
_NOT_COLUMNS = frozenset({"external_id", "institution_id", "id_number", "id_card", "phone"})
#: how a new record gets its id (the demo passes its own ids)
NewId = Callable[[BulkRecord[Any]], uuid.UUID]


def _random_id(_record: BulkRecord[Any]) -> uuid.UUID:
    return uuid.uuid4()


@dataclass
class _Upsert:
    principal: Principal
    source_system: str
    institutions: dict[uuid.UUID, Institution]
    existing: dict[str, Practitioner]
    cipher: PersonalDataCipher
    new_id: NewId
    new: list[Practitioner]

    def check(self, record: BulkRecord[PractitionerRecord]) -> None:
        data = cast(PractitionerRecord, record.data)
        institution = self.institutions.get(data.institution_id)
        if institution is None or not can_see(
            self.principal, region_code=institution.region_code, institution_ids=[institution.id]
        ):
            raise InstitutionNotFound()
        service.check_institution(self.principal, institution)
        current = self.existing.get(record.external_id or "")
        if current is None:
            self._create(record, data, institution)
        else:
            self._update(record, data, current)

    def _create(
        self, record: BulkRecord[PractitionerRecord], data: PractitionerRecord, institution: Institution
    ) -> None:
        values = service.column_values(data, self.cipher)
        values.pop("external_id", None)
        practitioner = Practitioner(
            id=self.new_id(record),
            institution_id=institution.id,
            region_code=institution.region_code,
            source_system=self.source_system,
            external_id=record.external_id,
            **values,
        )
        self.new.append(practitioner)
        record.written(
            BulkOutcome.created,
            id=practitioner.id,
            version=1,
            changes=data.model_dump(mode="json", exclude_none=True, exclude={"external_id"}),
        )

    def _update(
        self, record: BulkRecord[PractitionerRecord], data: PractitionerRecord, current: Practitioner
    ) -> None:
        if current.institution_id != data.institution_id:
            raise PractitionerInstitutionFixed()
        carried = data.model_dump(mode="json", include=data.model_fields_set - _NOT_COLUMNS)
        before = {key: getattr(current, key) for key in carried}
        changed = bulk.changed_fields(before, carried)
        personal = {
            key: value
            for key, value in (("id_number", data.id_number), ("phone", data.phone))
            if key in data.model_fields_set
        }
        stored = {
            "id_number": self.cipher.decrypt(current.id_number_enc),
            "phone": self.cipher.decrypt(current.phone_enc),
        }
        personal_changed = {key: value for key, value in personal.items() if stored[key] != value}
        if not changed and not personal_changed:
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        try:
            _check_title(carried.get("kind", current.kind), carried.get("title", current.title))
        except ValueError as exc:
            raise Unprocessable(str(exc), code="title_does_not_fit_kind") from None
        for key in changed:
            setattr(current, key, carried[key])
        for key, value in service.personal_columns(personal_changed, self.cipher).items():
            setattr(current, key, value)
        diff: dict[str, Any] = dict(changed)
        diff.update({key: ["***", "***"] for key in personal_changed})
        record.written(BulkOutcome.updated, id=current.id, version=current.version + 1, changes=diff)


async def upsert(
    session: AsyncSession,
    principal: Principal,
    request: PractitionerBulkRequest,
    *,
    cipher: PersonalDataCipher,
    max_records: int,
    new_id: NewId = _random_id,
) -> BulkResponse:
    """Create, update or leave unchanged each practitioner keyed by (source_system, external_id)."""
    batch = open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(PractitionerRecord, exclude=())
    live = [cast(PractitionerRecord, r.data) for r in batch.live()]
    institution_ids = {data.institution_id for data in live}
    found: dict[uuid.UUID, Institution] = {}
    if institution_ids:
        rows = await session.scalars(select(Institution).where(Institution.id.in_(institution_ids)))
        found = {row.id: row for row in rows}
    keys = [r.external_id for r in batch.live() if r.external_id]
    existing: dict[str, Practitioner] = {}
    if keys:
        matched = await session.scalars(
            select(Practitioner)
            .where(Practitioner.source_system == request.source_system, Practitioner.external_id.in_(keys))
            .with_for_update()
        )
        existing = {row.external_id or "": row for row in matched}
    work = _Upsert(
        principal=principal,
        source_system=request.source_system,
        institutions=found,
        existing=existing,
        cipher=cipher,
        new_id=new_id,
        new=[],
    )
    batch.check(work.check)
    session.add_all(work.new)
    await session.flush()
    bulk.audit_written(
        session, principal, batch, entity_type=service.ENTITY, personal_fields=service.PERSONAL_FIELDS
    )
    return batch.response()
