"""The residents' person index as another service calls it (issue 19), with the calling service's token
(audience ``residents``):

- :meth:`PersonIndex.find_or_create` finds or registers a person by ID number (``persons:write``);
  homecare's recipients and contracts' referral residents link to it (their ``person_link`` modules);
- :func:`resolve_batch` finds or registers a bulk batch's persons in ONE ``POST /persons/bulk`` call
  (``persons:bulk``), one record a person keyed by the caller's blind index of the ID number — homecare's
  city sync of recipients and contracts' import of referrals (issue 19);
- :meth:`PersonIndex.persons` reads several persons whole in ONE call (``POST /persons/batch``,
  ``persons:batch``: homecare and contracts only), a list page's persons at once; the residents audit each
  as a disclosure to the calling service, with the acting user's subject. The caller masks them per
  viewer itself (:func:`masked`). Each carries its latest ability assessment (``latest_assessment``, None
  for a person never assessed), read by the residents in the same call.

The index unreachable (or failing) is :class:`PersonIndexUnavailable`, a 503 problem
``residents_unavailable``: a write that needs the person is not half-done, a list answers without the
persons' fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Annotated

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from libs.common.errors import Conflict, ServiceUnavailable, Unprocessable, UpstreamError, UpstreamTimeout
from libs.common.http_client import ServiceClient
from libs.common.pagination import MAX_LIMIT
from libs.common.personal_data import (
    PersonalDataCipher,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
)

PERSONS_PATH = "/api/v1/residents/persons"
BATCH_PATH = f"{PERSONS_PATH}/batch"
BULK_PATH = f"{PERSONS_PATH}/bulk"


class _PersonRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID


class IndexedAssessment(BaseModel):
    """The person's latest 老年人能力评估 as the batch answers it (issue 19: its level supersedes a
    service's declared disability level)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    assessed_date: date
    level: int
    level_label: str
    scale_version: str


class IndexedPerson(BaseModel):
    """A person as the index holds it (the fields the callers read; whole as the batch answers them)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    region_code: str
    name: str
    id_number: str
    phone: str | None = None
    address: str | None = None
    birth_date: date | None = None
    sex: str
    age: int
    # the batch's only (None: never assessed, or read by another path)
    latest_assessment: IndexedAssessment | None = None


class _Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[IndexedPerson]


class _BulkResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    index: int
    outcome: str
    id: uuid.UUID | None = None
    code: str | None = None
    detail: str | None = None


class _Bulk(BaseModel):
    model_config = ConfigDict(extra="ignore")

    results: list[_BulkResult]


class NamedPerson(BaseModel):
    """A person as a bulk record names them (the identity the index finds or registers)."""

    name: str
    id_number: str
    region_code: str
    phone: str | None = None
    address: str | None = None


class BulkPerson(NamedPerson):
    """A person a bulk caller names (as ``POST /persons/bulk`` takes it; ``external_id``: its key)."""

    external_id: str


def masked(person: IndexedPerson) -> IndexedPerson:
    """The display form for a viewer who may not see the person whole (no birth date, masked values)."""
    return person.model_copy(
        update={
            "name": mask_name(person.name),
            "id_number": mask_id_card(person.id_number),
            "phone": mask_phone(person.phone),
            "address": mask_address(person.address) if person.address is not None else None,
            "birth_date": None,
        }
    )


class PersonIndexUnavailable(ServiceUnavailable):
    default_code = "residents_unavailable"

    def __init__(self, detail: str = "居民主索引（居民服务）暂不可用，请稍后重试") -> None:
        super().__init__(detail)


class PersonIdentityConflict(Conflict):
    """The ID number is a person of another name in the index (the stored name is not revealed)."""

    default_code = "person_name_mismatch"


class PersonRefused(Unprocessable):
    """The index refused the identity (e.g. where a new person may be registered)."""

    default_code = "person_refused"


class PersonNotMatched(Exception):
    """The person index refused the record: ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class PersonIndex(ServiceClient):
    """The residents' person index, as another service uses it: find or register a person by ID number."""

    upstream_name = "居民主索引"
    refused_code = "residents_unexpected_status"
    bad_payload_code = "residents_bad_payload"

    async def find_or_create(
        self, *, name: str, id_number: str, region_code: str, phone: str | None, address: str | None
    ) -> uuid.UUID:
        """The person's id. :class:`PersonNotMatched` when the index refuses the record (409 another name,
        422 invalid), :class:`PersonIndexUnavailable` when it cannot be reached."""
        body: dict[str, str] = {"name": name, "id_number": id_number, "region_code": region_code}
        if phone:
            body["phone"] = phone
        if address and len(address) >= 4:
            body["address"] = address
        response = await self._call("POST", PERSONS_PATH, json=body)
        if response.status_code == 422 and ("phone" in body or "address" in body):
            # the index is stricter on contact data than the calling service was: the identity is what links
            body = {k: v for k, v in body.items() if k not in ("phone", "address")}
            response = await self._call("POST", PERSONS_PATH, json=body)
        if response.status_code in (200, 201):
            return _PersonRef.model_validate(response.json()).id
        code = "person_name_mismatch" if response.status_code == 409 else "person_refused"
        try:
            detail = str(response.json().get("detail", ""))
        except ValueError:
            detail = response.text[:200]
        raise PersonNotMatched(code, f"居民主索引拒绝（HTTP {response.status_code}）：{detail}")

    async def resolve(
        self, *, name: str, id_number: str, region_code: str, phone: str | None, address: str | None
    ) -> uuid.UUID:
        """:meth:`find_or_create` for a write that must name its person: the index's refusal as this
        service's problem (409 ``person_name_mismatch``, 422 ``person_refused``), the index unreachable
        as 503 ``residents_unavailable`` — before the write's transaction, so nothing is half-written."""
        try:
            return await self.find_or_create(
                name=name, id_number=id_number, region_code=region_code, phone=phone, address=address
            )
        except PersonNotMatched as exc:
            if exc.code == "person_name_mismatch":
                raise PersonIdentityConflict("该身份证号在居民主索引中登记的姓名与所填不一致") from exc
            raise PersonRefused(exc.detail) from exc

    async def persons(
        self, ids: Iterable[uuid.UUID], *, on_behalf_of: str | None, purpose: str
    ) -> dict[uuid.UUID, IndexedPerson]:
        """The persons ``ids``, whole, in one call per :data:`MAX_LIMIT` of them (a list page: one).
        Raises :class:`PersonIndexUnavailable` when the index cannot be reached, ``UpstreamError`` (502)
        when it refuses (a linked person it does not know is an inconsistency, not a guess)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[uuid.UUID, IndexedPerson] = {}
        for start in range(0, len(wanted), MAX_LIMIT):
            body: dict[str, object] = {
                "ids": [str(i) for i in wanted[start : start + MAX_LIMIT]],
                "purpose": purpose[:60],
            }
            if on_behalf_of:
                body["on_behalf_of"] = on_behalf_of[:120]
            response = await self._call("POST", BATCH_PATH, json=body)
            found.update((p.id, p) for p in self.read(response, _Batch).items)
        return found

    async def find_by_id_numbers(
        self, id_numbers: Iterable[str], *, on_behalf_of: str | None, purpose: str
    ) -> dict[str, IndexedPerson]:
        """The persons the index holds of these ID numbers (by number; one call per :data:`MAX_LIMIT`),
        a number it does not hold absent. Raises :class:`PersonIndexUnavailable` when unreachable."""
        wanted = list(dict.fromkeys(id_numbers))
        found: dict[str, IndexedPerson] = {}
        for start in range(0, len(wanted), MAX_LIMIT):
            body: dict[str, object] = {
                "id_numbers": wanted[start : start + MAX_LIMIT],
                "purpose": purpose[:60],
            }
            if on_behalf_of:
                body["on_behalf_of"] = on_behalf_of[:120]
            response = await self._call("POST", BATCH_PATH, json=body)
            found.update((p.id_number.upper(), p) for p in self.read(response, _Batch).items)
        return found

    async def find_or_create_many(
        self, people: Sequence[BulkPerson], *, source_system: str, max_records: int
    ) -> list[uuid.UUID | PersonNotMatched]:
        """Find or register several persons by ID number in one ``POST /persons/bulk`` call per
        ``max_records`` of them (a bulk batch of that size: one), in order: each the person's id or the
        index's refusal of that record (:class:`PersonNotMatched`: ``person_name_mismatch`` when the number
        is a person of another name, ``person_refused`` otherwise). ``source_system`` keys the callers'
        records in the index. Raises :class:`PersonIndexUnavailable` when it cannot be reached."""
        answers: list[uuid.UUID | PersonNotMatched] = []
        for start in range(0, len(people), max_records):
            chunk = people[start : start + max_records]
            body = {
                "source_system": source_system,
                "records": [p.model_dump(exclude_none=True) for p in chunk],
            }
            response = await self._call("POST", BULK_PATH, json=body)
            results = {r.index: r for r in self.read(response, _Bulk).results}
            for i in range(len(chunk)):
                result = results.get(i)
                if result is not None and result.id is not None and result.outcome != "rejected":
                    answers.append(result.id)
                    continue
                code = result.code if result is not None else None
                detail = (result.detail if result is not None else None) or "无结果"
                answers.append(
                    PersonNotMatched(
                        "person_name_mismatch" if code == "person_identity_mismatch" else "person_refused",
                        f"居民主索引拒绝（{code or 'no_result'}）：{detail}",
                    )
                )
        return answers

    async def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            return await self.request(method, path, **kwargs)
        except (UpstreamError, UpstreamTimeout) as exc:
            raise PersonIndexUnavailable() from exc


def same_name(a: str, b: str) -> bool:
    """The names the person index takes for one (whitespace dropped, case folded)."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def index_source(service: str, source_system: str) -> str:
    """The key space of a service's bulk records in the person index (one per city platform, e.g.
    ``contracts:xm-ijk``); a person's key in it is the service's blind index of the ID number — one
    number, one key, whatever the platform's record (its external id may be re-keyed) — revealing nothing."""
    return f"{service}:{source_system}"[:60]


async def resolve_batch(
    index: PersonIndex,
    cipher: PersonalDataCipher,
    people: Mapping[int, NamedPerson],
    *,
    source: str,
    max_records: int,
) -> dict[int, uuid.UUID | PersonNotMatched]:
    """The persons of a bulk batch's records (``people``: by the record's index), found or registered in
    ONE ``POST /persons/bulk`` call (a batch of ``max_records``): one record a person, keyed by
    ``cipher``'s blind index of the ID number in ``source`` (:func:`index_source`), the phone and address
    the first record of a person lacks taken from a later one of the same name. Each record gets the
    person's id or the index's refusal (:class:`PersonNotMatched`: ``person_name_mismatch`` also when a
    later record of the batch gives the number another name, as the index would answer it;
    ``person_refused``). Raises :class:`PersonIndexUnavailable` when the index cannot be reached — call it
    before anything is written."""
    if not people:
        return {}
    keys = {i: cipher.lookup_hash(p.id_number, "id_card") for i, p in people.items()}
    first: dict[str, NamedPerson] = {}
    for i, person in people.items():
        held = first.setdefault(keys[i], person)
        if held is not person and same_name(held.name, person.name):
            # one record a person: what the first lacks, a later record of the same person gives
            # (its copy is cleared once linked — a value only it held would be lost)
            first[keys[i]] = held.model_copy(
                update={"phone": held.phone or person.phone, "address": held.address or person.address}
            )
    answers = await index.find_or_create_many(
        [BulkPerson(external_id=key, **person.model_dump()) for key, person in first.items()],
        source_system=source,
        max_records=max_records,
    )
    by_key = dict(zip(first, answers, strict=True))
    resolved: dict[int, uuid.UUID | PersonNotMatched] = {}
    for i, person in people.items():
        answer = by_key[keys[i]]
        if isinstance(answer, uuid.UUID) and not same_name(first[keys[i]].name, person.name):
            answer = PersonNotMatched("person_name_mismatch", "同一批次中该身份证号登记的姓名与本条不一致")
        resolved[i] = answer
    return resolved


async def get_person_index(request: Request) -> PersonIndex:
    """The app's person index (made at start-up); none configured is the index unavailable (503)."""
    index: PersonIndex | None = getattr(request.app.state, "person_index", None)
    if index is None:
        raise PersonIndexUnavailable()
    return index


PersonIndexDep = Annotated[PersonIndex, Depends(get_person_index)]


async def persons_or_none(
    index: PersonIndex | None,
    ids: Iterable[uuid.UUID],
    *,
    on_behalf_of: str | None,
    purpose: str,
    required: bool,
) -> dict[uuid.UUID, IndexedPerson] | None:
    """A page's linked persons in one call, for a read that shows them: None when the index is absent or
    unreachable and the read may degrade (``required`` false: a list answers with the person fields
    empty); :class:`PersonIndexUnavailable` when it may not (a detail that needs the whole data)."""
    try:
        if index is None:
            raise PersonIndexUnavailable()
        return await index.persons(ids, on_behalf_of=on_behalf_of, purpose=purpose)
    except PersonIndexUnavailable:
        if required:
            raise
        return None
