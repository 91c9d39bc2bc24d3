"""Writing many institutions at once (city-platform upserts, spreadsheet imports) in a handful of statements.

Every record is checked first against the rules of the single-record endpoints (``service.check_create``,
``check_may_edit``, ``merged_update``, ``check_uscc_owner``), with the lookups those rules need made for
the whole batch: a bad record is rejected with the single endpoint's code and never touches the
database. The good ones are then written with one bulk INSERT and one executemany UPDATE, their audit
records through :func:`libs.common.audit.record` (flushed as one multi-row INSERT), and their change-feed
entries through :func:`libs.common.changes.track` with the previous scope — whatever the batch size, a
few statements, never one round trip per record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, and_, bindparam, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, changes
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, RecordCode
from libs.common.bulk_insert import insert_rows
from libs.common.errors import DomainError, FieldError, validation_field_errors
from libs.common.models import utcnow
from libs.common.personal_data import PersonalDataCipher
from libs.common.renamed_fields import with_new_names
from services.registry.filings.models import Filing, FilingState
from services.registry.institutions import service
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import RENAMED, WRITABLE_FIELDS, InstitutionCreate
from services.registry.institutions.service import ENTITY, PERSONAL_FIELDS, warnings_for

# Columns a bulk write sets (everything but the key, bookkeeping and derived columns).
WRITABLE = tuple(name for name in WRITABLE_FIELDS if name != "contact_phone") + ("contact_phone_enc",)
_WRITABLE_SET = frozenset(WRITABLE)
TABLE: Table = Institution.__table__  # type: ignore[assignment]
CHUNK = (
    1000  # keys per IN (...) list (a default batch in one SELECT), far below every backend's parameter limit
)


@dataclass
class Candidate(BulkRecord[InstitutionCreate]):
    """One incoming institution: a city platform's record or a spreadsheet's row (``index`` its line)."""

    label: str = ""  # what the caller calls it: a record number, a line
    key: Any = None  # what it is matched by: an external id, a USCC, a (county, name)
    fields_at: str | None = None  # prefix of its field errors (None: ``records.{index}.``)

    @property
    def field_prefix(self) -> str:
        return super().field_prefix if self.fields_at is None else self.fields_at


def reject(candidate: Candidate, field_name: str, message: str, code: str) -> None:
    """Add a field error (a record may collect several; its code is the first one's)."""
    errors = [
        *candidate.errors,
        FieldError(field=candidate.field_name(field_name), message=message, code=code),
    ]
    candidate.reject(candidate.code or code, candidate.detail or message, errors)


def validate(candidates: Sequence[Candidate], principal: Principal) -> None:
    """Each record as ``InstitutionCreate`` and the rule of ``create`` (no database access)."""
    for candidate in candidates:
        if candidate.rejected:
            continue
        try:
            candidate.data = InstitutionCreate.model_validate(candidate.raw)
            service.check_create(principal, candidate.data)
        except ValidationError as exc:
            errors = [
                FieldError(field=candidate.field_name(e.field), message=e.message, code=e.code)
                for e in validation_field_errors(exc.errors())
            ]
            candidate.reject(RecordCode.validation_failed, "记录未通过校验", errors)
            continue
        except DomainError as exc:
            _reject_on(candidate, exc, "region_code")
            continue
        candidate.warnings = warnings_for(candidate.data)


def _reject_on(candidate: Candidate, error: DomainError, field_name: str) -> None:
    """Reject with the single write's error; one without field errors (scope) names ``field_name``."""
    candidate.reject_error(error)
    if not candidate.errors:
        candidate.errors = [
            FieldError(field=candidate.field_name(field_name), message=error.detail, code=error.code)
        ]


def reject_duplicates(candidates: Sequence[Candidate], key: Callable[[Candidate], Any], what: str) -> None:
    seen: dict[Any, Candidate] = {}
    for candidate in candidates:
        if candidate.rejected:
            continue
        value = key(candidate)
        if value is None:
            continue
        if value in seen:
            reject(candidate, what, f"与本批第 {seen[value].label} 条重复", RecordCode.duplicate_in_batch)
        else:
            seen[value] = candidate


async def load_existing(
    session: AsyncSession, condition_for: Callable[[list[Any]], Any], keys: Sequence[Any]
) -> list[dict[str, Any]]:
    """Rows (as plain dicts) matching ``keys``, a chunk of keys per SELECT, locked for the update."""
    rows: list[dict[str, Any]] = []
    table = TABLE
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        stmt = select(table).where(condition_for(chunk)).with_for_update()
        rows.extend(dict(row) for row in (await session.execute(stmt)).mappings())
    return rows


async def check_uscc_owners(session: AsyncSession, candidates: Sequence[Candidate]) -> None:
    """The rule of create and update: a USCC registered to another institution is taken."""
    wanted = [c for c in candidates if not c.rejected and c.data is not None and c.data.uscc]
    if not wanted:
        return
    usccs = [c.data.uscc for c in wanted if c.data is not None]
    owners: dict[str, uuid.UUID] = {}
    for start in range(0, len(usccs), CHUNK):
        stmt = select(Institution.uscc, Institution.id).where(
            Institution.uscc.in_(usccs[start : start + CHUNK])
        )
        owners.update({uscc: id_ for uscc, id_ in (await session.execute(stmt)).all() if uscc})
    for candidate in wanted:
        assert candidate.data is not None
        try:
            service.check_uscc_owner(owners.get(candidate.data.uscc or ""), except_id=candidate.id)
        except DomainError as exc:
            candidate.reject_error(exc)


def stored_fields(row: dict[str, Any], cipher: PersonalDataCipher) -> dict[str, Any]:
    """A stored row's writable fields, shaped like :class:`InstitutionCreate`."""
    fields = {name: row[name] for name in WRITABLE_FIELDS if name != "contact_phone"}
    fields["contact_phone"] = cipher.decrypt(row["contact_phone_enc"])
    return fields


def merge_existing(candidates: Sequence[Candidate], principal: Principal, cipher: PersonalDataCipher) -> None:
    """A matched record is an update: the rules of ``update`` (the caller may edit the institution, the
    merged whole is valid and in its region); it changes only the fields it carries."""
    for candidate in candidates:
        if candidate.rejected or candidate.existing is None:
            continue
        row = candidate.existing
        before = stored_fields(row, cipher)
        raw = with_new_names(candidate.raw, RENAMED)  # validated already: an old name agrees with its new
        patch = {key: value for key, value in raw.items() if key in WRITABLE_FIELDS}
        changed = [key for key, value in patch.items() if before.get(key) != value]
        try:
            service.check_may_edit(
                principal, institution_id=row["id"], region_code=row["region_code"], changed=changed
            )
            candidate.data = service.merged_update(principal, before, patch, changed)
        except DomainError as exc:
            _reject_on(candidate, exc, "region_code")
            continue
        candidate.warnings = warnings_for(candidate.data)


def column_values(
    data: InstitutionCreate, cipher: PersonalDataCipher, existing: dict[str, Any] | None
) -> dict[str, Any]:
    values = data.model_dump(exclude={"contact_phone"})
    if existing is not None and cipher.decrypt(existing["contact_phone_enc"]) == data.contact_phone:
        values["contact_phone_enc"] = existing["contact_phone_enc"]  # unchanged: keep the blob
    else:
        values["contact_phone_enc"] = cipher.encrypt(data.contact_phone)
    return values


def _comparable(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


async def write(
    session: AsyncSession,
    principal: Principal,
    candidates: Sequence[Candidate],
    *,
    cipher: PersonalDataCipher,
    action: str,
    extra_columns: Callable[[Candidate], dict[str, Any]] = lambda _c: {},
) -> None:
    """Insert the new and update the changed records among ``candidates`` (outcomes are set here)."""
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]] = []
    for candidate in candidates:
        if candidate.rejected or candidate.data is None:
            continue
        values = {**column_values(candidate.data, cipher, candidate.existing), **extra_columns(candidate)}
        if candidate.existing is None:
            candidate.written(BulkOutcome.created, id=uuid.uuid4(), version=1)
            inserts.append(
                {
                    **values,
                    "id": candidate.id,
                    "has_medical_unit": candidate.data.kind != InstitutionKind.elderly_care,
                    "active": True,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        changed = {
            key: value
            for key, value in values.items()
            if _comparable(candidate.existing.get(key)) != _comparable(value)
        }
        existing_id, existing_version = candidate.existing["id"], candidate.existing["version"]
        if not changed:
            candidate.written(BulkOutcome.unchanged, id=existing_id, version=existing_version)
            continue
        candidate.written(BulkOutcome.updated, id=existing_id, version=existing_version + 1)
        updates.append((candidate, values, changed))

    if updates:
        await _apply_updates(session, updates, now)
        moved = {c.id: c.data.region_code for c, _v, ch in updates if "region_code" in ch and c.id and c.data}
        await service.move_year_stats(session, moved)
    if inserts:
        await insert_rows(session, TABLE, inserts)  # one statement, whatever the batch size
    _track_and_audit(session, principal, inserts, updates, action=action)


async def _apply_updates(
    session: AsyncSession, updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]], now: Any
) -> None:
    with_filing: set[uuid.UUID] = set()
    kind_changed = [c.id for c, _v, changed in updates if "kind" in changed and c.id]
    if kind_changed:
        stmt = select(Filing.institution_id).where(
            Filing.institution_id.in_(kind_changed), Filing.state == FilingState.accepted
        )
        with_filing = set((await session.scalars(stmt)).all())
    table = TABLE
    params = []
    for candidate, values, _changed in updates:
        assert candidate.existing is not None
        assert candidate.data is not None
        has_unit = (
            candidate.data.kind != InstitutionKind.elderly_care or candidate.id in with_filing
            if "kind" in _changed
            else candidate.existing["has_medical_unit"]
        )
        values["has_medical_unit"] = has_unit
        values["version"] = candidate.existing["version"] + 1
        values["updated_at"] = now
        params.append({**{f"v_{k}": v for k, v in values.items()}, "k_id": candidate.id})
    columns = list(params[0].keys())
    statement = (
        update(table)
        .where(table.c.id == bindparam("k_id"))
        .values({name[2:]: bindparam(name) for name in columns if name.startswith("v_")})
    )
    await session.execute(statement, params, execution_options={"synchronize_session": False})


def _track_and_audit(
    session: AsyncSession,
    principal: Principal,
    inserts: list[dict[str, Any]],
    updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]],
    *,
    action: str,
) -> None:
    """Queue the change-feed entries of the written rows (from their values: no ORM object each) and
    their audit records (one multi-row INSERT at commit)."""
    entries: list[audit.Entry] = []
    for row in inserts:
        changes.track_values(session, Institution, row, previous_scope=None)
        diff = {k: v for k, v in row.items() if k in _WRITABLE_SET and v not in (None, 0, False)}
        diff.pop("contact_phone_enc", None)
        if row.get("contact_phone_enc") is not None:
            diff["contact_phone"] = audit.MASK
        entries.append(audit.Entry("institution.create", ENTITY, row["id"], {"via": action, **diff}))
    for candidate, values, changed in updates:
        assert candidate.existing is not None
        assert candidate.id is not None
        merged = {**candidate.existing, **values}
        # the scope it had before, so that a move leaves a tombstone in the old region's feed
        previous = changes.scope_of_values(Institution, candidate.existing)[:3]
        changes.track_values(session, Institution, merged, previous_scope=previous)
        diff = {
            ("contact_phone" if key == "contact_phone_enc" else key): (
                audit.MASK if key == "contact_phone_enc" else [candidate.existing.get(key), value]
            )
            for key, value in changed.items()
        }
        entries.append(audit.Entry("institution.update", ENTITY, candidate.id, {"via": action, **diff}))
    audit.record_many(session, principal, entries, personal_fields=PERSONAL_FIELDS)


def key_condition_source(chunk: list[tuple[str, str]]) -> Any:
    """(source_system, external_id) among ``chunk``. A batch has one source system: then it is
    ``source_system = … AND external_id IN (…)``, which PostgreSQL runs as one index scan with an array
    (a list of row values becomes one OR branch per key)."""
    sources = {source for source, _key in chunk}
    if len(sources) == 1:
        return and_(
            Institution.source_system == sources.pop(), Institution.external_id.in_([k for _s, k in chunk])
        )
    return tuple_(Institution.source_system, Institution.external_id).in_(chunk)
