from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common import divisions
from libs.common.dates import BusinessDate
from libs.common.text import MultiLine
from services.residents.assessments.schemas import LEVEL_LABELS
from services.residents.care_services.models import CARE_SERVICE_KIND_LABELS, CareServiceKind

PERSON_ID_EXAMPLE = "8a0c9f3e-2d4b-4f7a-9c1e-5b6d7e8f9a01"


class CareServiceCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": PERSON_ID_EXAMPLE,
                    "client_record_id": "0b7f6a52-9c3d-4e21-8f10-2a3b4c5d6e7f",
                    "service_date": "2026-05-20",
                    "kinds": ["health_assessment", "medication_guidance", "rehabilitation"],
                    "note": "上门测血压、血糖，调整降压药服用时间，指导家属被动关节活动",
                }
            ]
        }
    )

    person_id: uuid.UUID
    client_record_id: uuid.UUID = Field(description="客户端生成的 ID；重发不会重复记录")
    service_date: BusinessDate = Field(description="服务日期（不能晚于今天）")
    kinds: list[CareServiceKind] = Field(min_length=1, max_length=7, description="服务内容")
    note: MultiLine | None = Field(default=None, max_length=2000, description="服务记录（仅服务机构可见）")


class CareServiceRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    region_code: str
    institution_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    assessment_id: uuid.UUID = Field(description="服务日该居民最近一次能力评估")
    service_date: date
    year: int
    window_number: int = Field(description="年度内的服务周期（默认 1 为上半年，2 为下半年）")
    kinds: list[CareServiceKind]
    note: str | None = Field(description="仅服务机构可见，其他读者为空")
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_labels(self) -> list[str]:
        return [CARE_SERVICE_KIND_LABELS[k] for k in self.kinds]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class OwedStatus(StrEnum):
    done = "done"
    pending = "pending"
    overdue = "overdue"


OWED_STATUS_LABELS = {
    OwedStatus.done: "已服务",
    OwedStatus.pending: "待服务",
    OwedStatus.overdue: "逾期未服务",
}


class OwedRead(BaseModel):
    """A person owed a service in a window: their latest assessment as of the window's end is 失能."""

    person_id: uuid.UUID
    region_code: str
    assessment_id: uuid.UUID
    assessed_date: date
    assessed_by_institution_id: uuid.UUID
    level: int
    year: int
    window_number: int
    window_start: date
    window_end: date
    status: OwedStatus

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return OWED_STATUS_LABELS[self.status]


class CareSummaryRow(BaseModel):
    region_code: str
    window_number: int
    owed: int = Field(description="应服务人数（周期末最近一次评估为失能）")
    done: int = Field(description="已服务人数")
    pending: int = Field(description="周期未结束、尚未服务的人数")
    overdue: int = Field(description="周期已结束仍未服务的人数")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class CareSummary(BaseModel):
    year: int
    min_level: int = Field(description="应服务的最低能力等级（配置）")
    rows: list[CareSummaryRow]
