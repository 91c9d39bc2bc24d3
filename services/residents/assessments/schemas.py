from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from libs.common import divisions
from libs.common.dates import BusinessDate
from libs.common.text import MultiLine
from services.residents.assessments.scale import (
    ADJUSTMENT_LABELS,
    DOMAIN_LABELS,
    SCALES,
    AbilityDomain,
    Adjustment,
)

#: the person of the persons' example (陈阿婆, 湖里区)
PERSON_ID_EXAMPLE = "8a0c9f3e-2d4b-4f7a-9c1e-5b6d7e8f9a01"
_SCORES_EXAMPLE: JsonDict = {
    "eating": 4,
    "grooming": 3,
    "bathing": 2,
    "dressing_upper": 3,
    "dressing_lower": 2,
    "urine_control": 4,
    "bowel_control": 4,
    "toileting": 3,
    "bed_position_change": 4,
    "bed_chair_transfer": 3,
    "level_walking": 2,
    "stairs": 1,
    "time_orientation": 3,
    "place_orientation": 3,
    "person_orientation": 4,
    "memory": 2,
    "comprehension": 3,
    "expression": 3,
    "aggression": 1,
    "depression": 1,
    "consciousness": 4,
    "vision": 1,
    "hearing": 1,
    "daily_affairs": 2,
    "transport_outing": 1,
    "social_interaction": 1,
}  # total 64: 能力中度受损
LEVEL_LABELS = {0: "能力完好", 1: "轻度失能", 2: "中度失能", 3: "重度失能", 4: "完全失能"}
#: what the service computes; a client that sends one is refused (the service never takes them)
COMPUTED_FIELDS = frozenset(
    {"total_score", "total", "level", "level_label", "total_level", "domain_scores", "adjustments"}
)


class AssessmentCreate(BaseModel):
    """An assessor's item scores (every item of the scale in force, each within its range) and the facts
    the level rules read. The total and the level are computed by the service: sending them is refused."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": PERSON_ID_EXAMPLE,
                    "assessed_date": "2026-05-12",
                    "scores": _SCORES_EXAMPLE,
                    "dementia": False,
                    "mental_disorder": False,
                    "care_risk_events_30d": 0,
                    "note": "入户评估，家属在场",
                }
            ]
        }
    )

    person_id: uuid.UUID
    assessed_date: BusinessDate = Field(description="评估日期（不能晚于今天）")
    scores: dict[str, int] = Field(
        max_length=100, description="各评估项目代码 → 得分（见 GET /assessments/scale）"
    )
    dementia: bool = Field(default=False, description="确诊痴呆（等级上调一级）")
    mental_disorder: bool = Field(default=False, description="确诊其他精神障碍（等级上调一级）")
    care_risk_events_30d: int = Field(
        default=0,
        ge=0,
        le=100,
        description="近 30 天内照护风险事件（跌倒、走失、噎食、自杀自伤）次数；≥2 上调一级",
    )
    note: MultiLine | None = Field(default=None, max_length=2000)

    @model_validator(mode="before")
    @classmethod
    def _no_computed_fields(cls, value: Any) -> Any:
        if isinstance(value, dict):
            sent = sorted(COMPUTED_FIELDS & set(value))
            if sent:
                raise PydanticCustomError(
                    "computed_by_service",
                    "总分与等级由平台根据各项得分计算，请勿提交：{fields}",
                    {"fields": ", ".join(sent)},
                )
        return value


class DomainScore(BaseModel):
    domain: AbilityDomain
    label: str
    score: int
    max_score: int


class LatestAssessment(BaseModel):
    """A person's latest ability assessment in short: their current level (issue 19: it supersedes the
    disability level a service declared)."""

    id: uuid.UUID
    assessed_date: date
    level: int = Field(description="能力等级 0–4（平台计算，含调整）")
    scale_version: str = Field(description="评估所用的指标与分级版本")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class AssessmentRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    region_code: str
    institution_id: uuid.UUID
    assessor_practitioner_id: uuid.UUID | None
    assessed_date: date
    scale_version: str
    total_score: int = Field(description="总分（平台计算）")
    total_level: int = Field(description="按总分所在区间的等级（调整前）")
    level: int = Field(description="能力等级 0–4（平台计算，含昏迷、痴呆等调整）")
    adjustments: list[Adjustment]
    dementia: bool
    mental_disorder: bool
    care_risk_events_30d: int
    note: str | None = Field(default=None, description="评估记录（仅评估机构可见，其他读者为空）")
    scores: dict[str, int] | None = Field(default=None, description="各项得分（仅单条读取时给出）")
    domain_scores: list[DomainScore] | None = Field(
        default=None, description="一级指标得分（仅单条读取时给出）"
    )
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_name(self) -> str:
        scale = SCALES.get(self.scale_version)
        return scale.band(self.level).name if scale else LEVEL_LABELS[self.level]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def adjustment_labels(self) -> list[str]:
        return [ADJUSTMENT_LABELS[a] for a in self.adjustments]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class ScaleItemRead(BaseModel):
    code: str
    name: str
    domain: AbilityDomain
    domain_label: str
    max_score: int


class LevelBandRead(BaseModel):
    level: int
    name: str
    disability_name: str
    min_total: int
    max_total: int


class ScaleRead(BaseModel):
    version: str
    in_force: bool
    total_max: int
    items: list[ScaleItemRead]
    levels: list[LevelBandRead]

    @staticmethod
    def of(version: str, in_force: bool) -> ScaleRead:
        scale = SCALES[version]
        return ScaleRead(
            version=version,
            in_force=in_force,
            total_max=scale.total_max,
            items=[
                ScaleItemRead(
                    code=i.code,
                    name=i.name,
                    domain=i.domain,
                    domain_label=DOMAIN_LABELS[i.domain],
                    max_score=i.max_score,
                )
                for i in scale.items
            ],
            levels=[
                LevelBandRead(
                    level=b.level,
                    name=b.name,
                    disability_name=b.disability_name,
                    min_total=b.min_total,
                    max_total=b.max_total,
                )
                for b in scale.bands
            ],
        )


class AssessmentSummaryRow(BaseModel):
    region_code: str
    assessments: int = Field(description="年度评估次数")
    persons_assessed: int = Field(description="年度评估人数")
    persons_disabled: int = Field(description="其中年度最后一次评估为失能（等级 ≥ 1）的人数")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class AssessmentSummary(BaseModel):
    year: int
    rows: list[AssessmentSummaryRow]
