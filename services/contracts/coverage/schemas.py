from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

#: the Chinese labels of the ``group_by`` of the coverage, referral and visit reports
GROUP_BY_LABELS = {"city": "按设区市", "county": "按县（市、区）"}


class CoverageGroup(BaseModel):
    region_code: str
    region_name: str
    institutions: int = Field(description="养老机构数（含医养结合机构）")
    covered: int = Field(description="已签约或自有医疗机构的机构数")
    rate_pct: float
    meets_target: bool


class UncoveredInstitution(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    region_code: str


class Expiring(BaseModel):
    within_30_days: int
    within_60_days: int
    within_90_days: int


class Coverage(BaseModel):
    region_code: str = Field(description="统计范围（行政区划代码）")
    group_by: str
    as_of: date
    target_pct: float
    institutions: int
    covered: int
    covered_by_agreement: int
    covered_by_own_medical_unit: int = Field(description="自有医疗机构（医养结合）且无签约协议的机构数")
    rate_pct: float
    meets_target: bool
    signed_pairs: int = Field(
        description="签约对数：生效协议的不同（医疗机构，养老机构）组合数；任一方所在县区属于统计范围即计入，只计一次"
    )
    expiring: Expiring = Field(description="今后 30/60/90 天内到期的生效协议数（任一方所在县区属于统计范围）")
    groups: list[CoverageGroup]
    uncovered_total: int
    uncovered: list[UncoveredInstitution] = Field(
        description="未签约机构（按行政区划、名称排序，最多 uncovered_limit 条）"
    )
