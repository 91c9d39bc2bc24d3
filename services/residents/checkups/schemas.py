from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from libs.common import divisions
from libs.common.dates import BusinessDate
from libs.common.text import MultiLine
from services.residents.checkups.rules import CATEGORY_LABELS, RULES, PartCategory

#: the person of the persons' example (陈阿婆, 湖里区)
PERSON_ID_EXAMPLE = "8a0c9f3e-2d4b-4f7a-9c1e-5b6d7e8f9a01"


class CheckupPartIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, description="体检项目代码（见 GET /checkups/parts）")
    done_date: BusinessDate = Field(description="完成日期；各项目须属于同一年度")
    abnormal: bool | None = Field(default=None, description="结果是否异常；为空表示未判定")
    findings: MultiLine | None = Field(
        default=None, max_length=2000, description="结果与所见（仅记录机构可见）"
    )


class CheckupRecord(BaseModel):
    """One or more parts of a person's check-up of a year. The year's record is created by its first
    parts and later parts merge into it (one record per person and year); a part recorded again replaces
    its earlier result."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": PERSON_ID_EXAMPLE,
                    "parts": [
                        {"code": "lifestyle_assessment", "done_date": "2026-04-08"},
                        {
                            "code": "physical_exam",
                            "done_date": "2026-04-08",
                            "abnormal": True,
                            "findings": "血压 152/90 mmHg，BMI 26.1",
                        },
                        {"code": "blood_routine", "done_date": "2026-04-08", "abnormal": False},
                    ],
                }
            ]
        }
    )

    person_id: uuid.UUID
    parts: list[CheckupPartIn] = Field(min_length=1, max_length=30)

    @field_validator("parts")
    @classmethod
    def _each_part_once(cls, parts: list[CheckupPartIn]) -> list[CheckupPartIn]:
        codes = [part.code for part in parts]
        if len(set(codes)) != len(codes):
            raise ValueError("同一体检项目在一次提交中只能出现一次")
        return parts


class CheckupPartRead(BaseModel):
    code: str
    done_date: date
    abnormal: bool | None
    findings: str | None = Field(description="仅记录机构可见，其他读者为空")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        part = next((p for rule in RULES.values() if (p := rule.part(self.code))), None)
        return part.name if part else self.code


class CheckupRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    year: int = Field(description="体检年度")
    region_code: str = Field(description="记录建立时居民所在县级行政区划")
    institution_id: uuid.UUID = Field(description="建立并持有本年度记录的机构")
    rule_version: str = Field(description="判定“规范”所依据的体检规则版本")
    first_date: date
    last_date: date
    parts_done: list[str] = Field(description="已完成的体检项目代码")
    standard: bool = Field(description="规范（必需项目均已完成）")
    standard_date: date | None = Field(description="成为规范记录之日（最后一个必需项目的完成日期）")
    parts: list[CheckupPartRead] | None = Field(default=None, description="各项目（仅单条读取时给出）")
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parts_missing(self) -> list[str]:
        rule = RULES.get(self.rule_version)
        return [part.code for part in rule.missing(self.parts_done)] if rule else []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class CheckupPartDefinition(BaseModel):
    code: str
    name: str
    category: PartCategory
    category_label: str
    required: bool


class CheckupRuleRead(BaseModel):
    version: str
    in_force: bool
    parts: list[CheckupPartDefinition]

    @staticmethod
    def of(version: str, in_force: bool) -> CheckupRuleRead:
        rule = RULES[version]
        return CheckupRuleRead(
            version=version,
            in_force=in_force,
            parts=[
                CheckupPartDefinition(
                    code=p.code,
                    name=p.name,
                    category=p.category,
                    category_label=CATEGORY_LABELS[p.category],
                    required=p.required,
                )
                for p in rule.parts
            ],
        )


class CheckupSummaryRow(BaseModel):
    region_code: str
    persons_checked: int = Field(description="本年度有体检记录的 65 岁及以上居民数（每人每年计一次）")
    persons_standard: int = Field(description="其中规范记录数（健康管理率的分子）")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class CheckupSummary(BaseModel):
    year: int
    rows: list[CheckupSummaryRow]
    persons_checked: int
    persons_standard: int
