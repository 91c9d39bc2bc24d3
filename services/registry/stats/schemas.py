"""Wire shapes of the registry statistics."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class GroupBy(StrEnum):
    city = "city"
    county = "county"


GROUP_BY_LABELS = {GroupBy.city: "按设区市", GroupBy.county: "按县（市、区）"}


class BedCounts(BaseModel):
    beds_elderly_care: int = Field(default=0, description="养老床位")
    beds_medical: int = Field(default=0, description="医疗床位")
    beds_integrated: int = Field(default=0, description="医养结合床位")
    beds_rehabilitation: int = Field(default=0, description="康复床位")
    beds_nursing: int = Field(default=0, description="护理床位")
    beds_hospice: int = Field(default=0, description="安宁疗护床位")


class Counts(BaseModel):
    institutions: int = Field(description="机构总数（在用）")
    integrated_institutions: int = Field(
        description="医养结合机构数（省级统计口径：医养结合类机构、内设医疗机构已备案的养老机构、设有养老床位的医疗机构）"
    )
    integrated_institution_beds: int = Field(description="上述医养结合机构的床位数（医疗床位＋养老床位）")
    by_kind: dict[str, int] = Field(description="按机构类别：medical/elderly_care/integrated")
    by_category: dict[str, int] = Field(description="按机构细类")
    beds: BedCounts
    beds_by_kind: dict[str, BedCounts] = Field(description="各类机构的床位")


class RegionCounts(Counts):
    region_code: str
    region_name: str


class RegistryStats(BaseModel):
    group_by: GroupBy
    scope_region_code: str = Field(description="统计范围（调用者的管辖区域）")
    scope_region_name: str
    kind_labels: dict[str, str]
    category_labels: dict[str, str]
    groups: list[RegionCounts]
    totals: Counts = Field(description="范围合计（省级调用即全省合计）")
