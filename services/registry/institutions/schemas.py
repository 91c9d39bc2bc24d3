from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from libs.common import divisions
from services.registry.institutions.models import KIND_LABELS, InstitutionKind


class InstitutionCreate(BaseModel):
    name: str = Field(min_length=2, max_length=200, examples=["厦门市莲花爱心护理院"])
    kind: InstitutionKind
    region_code: str = Field(pattern=r"^\d{6}$", description="县级行政区划代码", examples=["350206"])

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str) -> str:
        if not divisions.is_county(value):
            raise ValueError("须为福建省内的县级行政区划代码")
        return value


class InstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: InstitutionKind
    region_code: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]
