from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common.text import MultiLine
from services.homecare.orders.complaints.models import COMPLAINT_STATUS_LABELS, ComplaintStatus


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"content": "护士比约定时段晚到 40 分钟，事先没有电话告知家属"}]}
    )

    content: MultiLine = Field(min_length=2, max_length=2000)


class ComplaintResolve(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"resolution": "已向家属致歉并约谈当事护士；今后派单预留路途时间，迟到须提前告知"}]
        }
    )

    resolution: MultiLine = Field(min_length=2, max_length=2000)


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    institution_id: uuid.UUID
    region_code: str
    status: ComplaintStatus
    content: str
    filed_by_role: str
    resolution: str | None
    resolved_at: datetime | None
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return COMPLAINT_STATUS_LABELS[self.status]
