"""Writing many institutions at once (city-platform upserts, spreadsheet imports) in a handful of statements.

Every record is validated first, on its own: a bad one is rejected with its reasons and never touches the
database. The good ones are then written with one bulk INSERT and one executemany UPDATE, their audit
records with one INSERT, and their change-feed entries through :func:`libs.common.changes.track` —
whatever the batch size, a few statements, never one round trip per record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import changes
from libs.common.auth import Principal
from libs.common.errors import FieldError, validation_field_errors
from libs.common.models import AuditRecord, utcnow
from libs.common.personal_data import PersonalDataCipher
from libs.common.request_context import current_request_id
from libs.common.scope import can_see
from services.registry.filings.models import Filing, FilingState
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import InstitutionCreate
from services.registry.institutions.service import ENTITY, PERSONAL_FIELDS, warnings_for

# Columns a bulk write sets (everything but the key, bookkeeping and derived columns).
WRITABLE = tuple(name for name in InstitutionCreate.model_fields if name != "contact_phone") + (
    "contact_phone_encrypted",
)
TABLE: Table = Institution.__table__  # type: ignore[assignment]
CHUNK = 500  # keys per IN (...) list: far below every backend's parameter limit


@dataclass
class Candidate:
    """One incoming record: its position, the key it is matched by, and its validated values."""

    position: int
    label: str  # what the caller calls it: a line number, an external id
    raw: dict[str, Any]
    key: Any = None  # what it is matched by: an external id, a USCC, a (county, name)
    data: InstitutionCreate | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str = "pending"  # created | updated | unchanged | rejected
    institution_id: uuid.UUID | None = None
    existing: dict[str, Any] | None = None


def reject(candidate: Candidate, field_name: str, message: str, code: str) -> None:
    candidate.errors.append(FieldError(field=field_name, message=message, code=code))
    candidate.status = "rejected"


def validate(candidates: Sequence[Candidate], principal: Principal) -> None:
    """Schema and scope checks of every record (no database access)."""
    for candidate in candidates:
        try:
            candidate.data = InstitutionCreate.model_validate(candidate.raw)
        except ValidationError as exc:
            for error in validation_field_errors(exc.errors()):
                reject(candidate, error.field or "record", error.message, error.code)
            continue
        if not can_see(principal, region_code=candidate.data.region_code):
            reject(candidate, "region_code", "该机构所在行政区划不在您的管辖范围内", "out_of_scope")
            continue
        candidate.warnings = warnings_for(candidate.data)


def reject_duplicates(candidates: Sequence[Candidate], key: Callable[[Candidate], Any], what: str) -> None:
    seen: dict[Any, Candidate] = {}
    for candidate in candidates:
        if candidate.status == "rejected":
            continue
        value = key(candidate)
        if value is None:
            continue
        if value in seen:
            reject(candidate, what, f"与本批第 {seen[value].label} 条重复", "duplicate_in_batch")
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
    """Reject a record whose USCC is already registered to another institution than the one it updates."""
    wanted = [c for c in candidates if c.status != "rejected" and c.data is not None and c.data.uscc]
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
        owner = owners.get(candidate.data.uscc or "")
        if owner is not None and owner != candidate.institution_id:
            reject(candidate, "uscc", "该统一社会信用代码已登记为另一家机构", "uscc_taken")


def merge_existing(candidates: Sequence[Candidate], cipher: PersonalDataCipher) -> None:
    """A matched record changes only the fields it carries; the merged whole is validated again."""
    for candidate in candidates:
        if candidate.status == "rejected" or candidate.existing is None:
            continue
        existing = candidate.existing
        fields = {name: existing[name] for name in InstitutionCreate.model_fields if name != "contact_phone"}
        fields["contact_phone"] = cipher.decrypt(existing["contact_phone_encrypted"])
        try:
            candidate.data = InstitutionCreate.model_validate({**fields, **candidate.raw})
        except ValidationError as exc:
            for error in validation_field_errors(exc.errors()):
                reject(candidate, error.field or "record", error.message, error.code)
            continue
        candidate.warnings = warnings_for(candidate.data)


def column_values(
    data: InstitutionCreate, cipher: PersonalDataCipher, existing: dict[str, Any] | None
) -> dict[str, Any]:
    values = data.model_dump(exclude={"contact_phone"})
    if existing is not None and cipher.decrypt(existing["contact_phone_encrypted"]) == data.contact_phone:
        values["contact_phone_encrypted"] = existing["contact_phone_encrypted"]  # unchanged: keep the blob
    else:
        values["contact_phone_encrypted"] = cipher.encrypt(data.contact_phone)
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
    """Insert the new and update the changed records among ``candidates`` (statuses are set here)."""
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]] = []
    for candidate in candidates:
        if candidate.status == "rejected" or candidate.data is None:
            continue
        values = {**column_values(candidate.data, cipher, candidate.existing), **extra_columns(candidate)}
        if candidate.existing is None:
            candidate.institution_id = uuid.uuid4()
            candidate.status = "created"
            inserts.append(
                {
                    **values,
                    "id": candidate.institution_id,
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
        if not changed:
            candidate.status = "unchanged"
            continue
        candidate.status = "updated"
        updates.append((candidate, values, changed))

    if updates:
        await _apply_updates(session, updates, now)
    if inserts:
        table = TABLE
        per_statement = max(1, 30_000 // len(inserts[0]))
        for start in range(0, len(inserts), per_statement):
            await session.execute(insert(table), inserts[start : start + per_statement])
    audit_rows = _track_and_audit_rows(session, principal, inserts, updates, action=action, now=now)
    if audit_rows:
        await session.execute(insert(AuditRecord), audit_rows)


async def _apply_updates(
    session: AsyncSession, updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]], now: Any
) -> None:
    with_filing: set[uuid.UUID] = set()
    kind_changed = [c.institution_id for c, _v, changed in updates if "kind" in changed and c.institution_id]
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
            candidate.data.kind != InstitutionKind.elderly_care or candidate.institution_id in with_filing
            if "kind" in _changed
            else candidate.existing["has_medical_unit"]
        )
        values["has_medical_unit"] = has_unit
        values["version"] = candidate.existing["version"] + 1
        values["updated_at"] = now
        params.append({**{f"v_{k}": v for k, v in values.items()}, "k_id": candidate.institution_id})
    columns = list(params[0].keys())
    statement = (
        update(table)
        .where(table.c.id == bindparam("k_id"))
        .values({name[2:]: bindparam(name) for name in columns if name.startswith("v_")})
    )
    await session.execute(statement, params, execution_options={"synchronize_session": False})


def _track_and_audit_rows(
    session: AsyncSession,
    principal: Principal,
    inserts: list[dict[str, Any]],
    updates: list[tuple[Candidate, dict[str, Any], dict[str, Any]]],
    *,
    action: str,
    now: Any,
) -> list[dict[str, Any]]:
    """Queue the change-feed entries of the written rows and return their audit rows."""
    audit_rows: list[dict[str, Any]] = []
    request_id = current_request_id()

    def audit_row(entity_id: uuid.UUID, verb: str, diff: dict[str, Any]) -> dict[str, Any]:
        masked = {
            key: ("***" if key in PERSONAL_FIELDS else changes.json_value(v)) for key, v in diff.items()
        }
        return {
            "id": uuid.uuid4(),
            "occurred_at": now,
            "actor_sub": principal.sub,
            "actor_role": principal.role.value,
            "actor_institution_id": principal.institution_id,
            "action": f"institution.{verb}",
            "entity_type": ENTITY,
            "entity_id": str(entity_id),
            "changes": {"via": action, **masked},
            "request_id": request_id,
        }

    for row in inserts:
        changes.track(session, Institution(**row), previous_scope=None)
        diff = {k: v for k, v in row.items() if k in WRITABLE and v not in (None, 0, False)}
        diff.pop("contact_phone_encrypted", None)
        if row.get("contact_phone_encrypted") is not None:
            diff["contact_phone"] = "***"
        audit_rows.append(audit_row(row["id"], "create", diff))
    for candidate, values, changed in updates:
        assert candidate.existing is not None
        assert candidate.institution_id is not None
        merged = {**candidate.existing, **values}
        # the scope it had before, so that a move leaves a tombstone in the old region's feed
        changes.track(
            session, Institution(**merged), previous_scope=Institution(**candidate.existing).change_scope()
        )
        diff = {
            ("contact_phone" if key == "contact_phone_encrypted" else key): (
                "***" if key == "contact_phone_encrypted" else [candidate.existing.get(key), value]
            )
            for key, value in changed.items()
        }
        audit_rows.append(audit_row(candidate.institution_id, "update", diff))
    return audit_rows


def key_condition_source(chunk: list[tuple[str, str]]) -> Any:
    return tuple_(Institution.source_system, Institution.external_id).in_(chunk)
