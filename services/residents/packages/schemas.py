from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from libs.common.money import Amount
from services.residents.packages.rules import (
    PACKAGE_KIND_LABELS,
    PACKAGE_STATUS_LABELS,
    PackageKind,
    PackageStatus,
)

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PackageItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(description="服务项目编码（包内唯一）")
    name: Name = Field(description="服务项目名称，如「一般体检」「血压测量」")
    times_per_year: int = Field(ge=0, le=366, description="每年服务次数；0 表示按需")


class PackageContent(BaseModel):
    """What a version holds: its name, fee and items."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    fee_yuan: Amount = Field(ge=0, le=100000, decimal_places=2, description="签约服务费（元/年）")
    items: list[PackageItem] = Field(min_length=1, max_length=100)


class PackageCreate(PackageContent):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "JC-2026",
                    "name": "老年人基础服务包",
                    "kind": "basic",
                    "fee_yuan": "120.00",
                    "items": [
                        {"code": "checkup", "name": "年度健康体检", "times_per_year": 1},
                        {"code": "followup", "name": "健康随访", "times_per_year": 4},
                    ],
                }
            ]
        },
    )

    code: Code = Field(description="服务包编码（本机构内唯一，各版本共用）")
    kind: PackageKind


class PackageRevise(PackageContent):
    """A new version of the package (same code and kind); the version revised is retired."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "老年人基础服务包（2027 版）",
                    "fee_yuan": "130.00",
                    "items": [{"code": "checkup", "name": "年度健康体检", "times_per_year": 1}],
                }
            ]
        },
    )


class PackageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    region_code: str
    code: str
    version_no: int = Field(description="服务包版本号（同一编码从 1 起递增）")
    name: str
    kind: PackageKind
    status: PackageStatus
    fee_yuan: Decimal
    items: list[PackageItem]
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return PACKAGE_KIND_LABELS[self.kind]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return PACKAGE_STATUS_LABELS[self.status]
