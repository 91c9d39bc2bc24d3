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
from datetime import date
from typing import Any, Literal

import httpx
from fastapi import Request
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from libs.common.errors import ServiceUnavailable, UpstreamError, UpstreamTimeout
from libs.common.http_client import ServiceClient

PERSONS_PATH = "/api/v1/residents/persons"
# at most this many look-ups of one batch in flight at once
BATCH_CONCURRENCY = 8


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AssessmentInfo(_Wire):
    id: uuid.UUID
    person_id: uuid.UUID
    assessed_date: date
    level: int
    dementia: bool = False


class _PersonRef(_Wire):
    id: uuid.UUID


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

    async def latest_assessment(self, person_id: uuid.UUID) -> AssessmentInfo | None:
        """The person's latest assessment, or None when the residents service holds none."""
        response = await self._call("GET", f"{PERSONS_PATH}/{person_id}/assessments/latest")
        if response.status_code == 404:
            return None
        return self.read(response, AssessmentInfo)

    async def latest_assessments(self, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, AssessmentInfo]:
        """The latest assessment of each person (those without one are left out): each distinct person
        asked once, at most :data:`BATCH_CONCURRENCY` at a time."""
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(person_id: uuid.UUID) -> tuple[uuid.UUID, AssessmentInfo | None]:
            async with gate:
                return person_id, await self.latest_assessment(person_id)

        answers = await asyncio.gather(*(one(p) for p in sorted(set(person_ids))))
        return {person_id: info for person_id, info in answers if info is not None}


def get_residents(request: Request) -> ResidentsClient:
    """The app's residents client (made at start-up, app.py)."""
    client: ResidentsClient = request.app.state.residents
    return client
