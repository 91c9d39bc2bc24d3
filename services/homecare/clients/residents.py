"""The residents service, as homecare's disability rules see it: a person's latest ability assessment.

The rule (issue 19): a recipient's disability (失能) is the level of the person's **latest ability
assessment** (老年人能力评估, GB/T 42195-2022, levels 0–4, ≥ 1 失能) held by the residents service; the
``disability_level`` declared when the recipient was registered is only the **fallback** for a person
the residents service holds no assessment of (or who is not in its person index). A re-assessment that
finds the elder 能力完好 therefore ends their 失能 eligibility, whatever was declared. 失智 counts when
declared on the recipient or found by the assessment. What the rule used is kept with the decision
(:meth:`DisabilityBasis.record`: the assessment's id, date and level, or ``declared``).

The person is the recipient's ``person_id`` (the residents' person index, once linked) or else found by
the recipient's ID number (``POST /persons/lookup``, the number in the body). Calls go through the
gateway with homecare's service token (audience ``residents``; the residents grant ``service:homecare``
``persons:read`` and ``assessments:read``). The residents service unreachable, failing or timing out is
a 503 problem ``residents_unavailable``: a rule that needs the assessment is not decided on a guess.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import httpx
from fastapi import Request
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from libs.common.errors import ServiceUnavailable, UpstreamError, UpstreamTimeout
from libs.common.http_client import ServiceClient

PERSONS_PATH = "/api/v1/residents/persons"
ASSESSMENTS_PATH = "/api/v1/residents/assessments"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AssessmentInfo(_Wire):
    id: uuid.UUID
    person_id: uuid.UUID
    assessed_date: date
    level: int
    dementia: bool = False
    created_at: datetime | None = None


class _AssessmentPage(_Wire):
    items: list[AssessmentInfo]
    next_cursor: str | None = None


class _PersonRef(_Wire):
    id: uuid.UUID


class _IdentityAnswer(_Wire):
    matches: bool


_PERSON_LIST = TypeAdapter(list[_PersonRef])


class ResidentsUnavailable(ServiceUnavailable):
    default_code = "residents_unavailable"

    def __init__(self, detail: str = "居民服务（能力评估）暂不可用，请稍后重试") -> None:
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class DisabilityBasis:
    """The disability a rule reads, and where it came from."""

    level: int
    dementia: bool
    source: Literal["assessment", "declared"]
    assessment_id: uuid.UUID | None = None
    assessed_date: date | None = None

    @property
    def disabled(self) -> bool:
        return self.level >= 1

    @classmethod
    def declared(cls, level: int, dementia: bool) -> DisabilityBasis:
        return cls(level=level, dementia=dementia, source="declared")

    @classmethod
    def on_day(
        cls, assessments: Iterable[AssessmentInfo], day: date, declared_level: int, declared_dementia: bool
    ) -> DisabilityBasis:
        """The rule for a past day (the historical import): the latest assessment on or before ``day``
        (the same order as the residents' own: date, then the later recorded), else the declared level."""
        before = [a for a in assessments if a.assessed_date <= day]
        if not before:
            return cls.declared(declared_level, declared_dementia)
        latest = max(
            before,
            key=lambda a: (a.assessed_date, a.created_at.timestamp() if a.created_at else 0.0, str(a.id)),
        )
        return cls.assessed(latest, declared_dementia)

    @classmethod
    def assessed(cls, assessment: AssessmentInfo, declared_dementia: bool) -> DisabilityBasis:
        return cls(
            level=assessment.level,
            dementia=declared_dementia or assessment.dementia,
            source="assessment",
            assessment_id=assessment.id,
            assessed_date=assessment.assessed_date,
        )

    def record(self) -> dict[str, Any]:
        """What the decision kept (audit detail): the assessment used, or ``declared``."""
        if self.source == "declared":
            return {"source": "declared", "level": self.level}
        return {
            "source": "assessment",
            "assessment_id": str(self.assessment_id),
            "assessed_date": self.assessed_date.isoformat() if self.assessed_date else None,
            "level": self.level,
        }


class ResidentsClient(ServiceClient):
    upstream_name = "居民服务"
    refused_code = "residents_unexpected_status"
    bad_payload_code = "residents_bad_payload"
    # at most this many look-ups of one batch in flight at once
    concurrency = 8

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.request(method, path, **kwargs)
        except (UpstreamError, UpstreamTimeout) as exc:
            raise ResidentsUnavailable() from exc

    async def person_by_id_number(self, id_number: str) -> uuid.UUID | None:
        """The person of this ID number in the person index, or None (the number goes in the body)."""
        response = await self._call("POST", f"{PERSONS_PATH}/lookup", json={"id_number": id_number})
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            self.read(response, _PersonRef)  # raises: the 502 of an unexpected answer
        try:
            found = _PERSON_LIST.validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamError(
                f"{self.upstream_name}返回的数据无法识别", code=self.bad_payload_code
            ) from exc
        return found[0].id if found else None

    async def identity_matches(self, person_id: uuid.UUID, id_suffix: str) -> bool | None:
        """Do the ID number's last characters match (issue 18)? None when the residents service gives no
        answer: unreachable, failing, the day's attempts for the person used up (429), or the person
        unknown to it — the caller flags the check unverified, it never blocks on it."""
        try:
            response = await self._call(
                "POST", f"{PERSONS_PATH}/{person_id}/identity-check", json={"id_suffix": id_suffix}
            )
        except ResidentsUnavailable:
            return None
        if response.status_code != 200:
            return None
        try:
            return _IdentityAnswer.model_validate_json(response.content).matches
        except ValidationError:
            return None

    async def latest_assessment(self, person_id: uuid.UUID) -> AssessmentInfo | None:
        """The person's latest assessment, or None when the residents service holds none."""
        response = await self._call("GET", f"{PERSONS_PATH}/{person_id}/assessments/latest")
        if response.status_code == 404:
            return None
        return self.read(response, AssessmentInfo)

    async def assessments_of(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[AssessmentInfo]]:
        """Every assessment of each person (a batch's past days are judged against them): one listing per
        distinct person (usually one page), at most :attr:`concurrency` at a time."""
        gate = asyncio.Semaphore(self.concurrency)

        async def one(person_id: uuid.UUID) -> tuple[uuid.UUID, list[AssessmentInfo]]:
            found: list[AssessmentInfo] = []
            cursor: str | None = None
            async with gate:
                while True:
                    params: list[tuple[str, str | int]] = [("person_id", str(person_id)), ("limit", 200)]
                    if cursor:
                        params.append(("cursor", cursor))
                    response = await self._call("GET", ASSESSMENTS_PATH, params=params)
                    page = self.read(response, _AssessmentPage)
                    found += [a for a in page.items if a.person_id == person_id]
                    if not page.next_cursor or not page.items:
                        return person_id, found
                    cursor = page.next_cursor

        return dict(await asyncio.gather(*(one(p) for p in sorted(set(person_ids)))))

    async def persons_by_id_number(self, id_numbers: Iterable[str]) -> dict[str, uuid.UUID]:
        """The persons of these ID numbers that the person index holds (each number asked once)."""
        gate = asyncio.Semaphore(self.concurrency)

        async def one(id_number: str) -> tuple[str, uuid.UUID | None]:
            async with gate:
                return id_number, await self.person_by_id_number(id_number)

        answers = await asyncio.gather(*(one(n) for n in sorted(set(id_numbers))))
        return {n: p for n, p in answers if p is not None}


async def get_residents(request: Request) -> ResidentsClient:
    """The app's residents client (made at start-up, app.py)."""
    client: ResidentsClient = request.app.state.residents
    return client
