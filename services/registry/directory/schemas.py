"""Wire shapes of the partner directory: an institution's public face, nothing personal."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common import divisions
from libs.common.pagination import Page
from services.registry.institutions.kinds import (
    CATEGORY_LABELS,
    HOSPITAL_GRADE_LABELS,
    INTEGRATED_MODEL_LABELS,
    KIND_LABELS,
    Category,
    HospitalGrade,
    InstitutionKind,
    IntegratedModel,
)


class DirectoryInstitution(BaseModel):
    """What any institution may know of another to choose a partner: the fields an institution shows
    the public (name, kind, place, grade, beds). No USCC or licence, no legal person, contact or phone,
    no residents' figures."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: InstitutionKind
    category: Category
    hospital_grade: HospitalGrade | None
    integrated_model: IntegratedModel | None
    region_code: str
    address: str | None
    latitude: float | None = Field(description="纬度 (WGS-84)")
    longitude: float | None = Field(description="经度 (WGS-84)")
    beds_elderly_care: int = Field(description="养老床位")
    beds_medical: int = Field(description="医疗床位")
    elderly_green_channel: bool = Field(description="开设老年人绿色通道")
    distance_km: float | None = Field(
        default=None, description="与本机构的直线距离（公里，haversine）；未按距离排序时为空"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hospital_grade_label(self) -> str | None:
        return HOSPITAL_GRADE_LABELS[self.hospital_grade] if self.hospital_grade else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def integrated_model_label(self) -> str | None:
        return INTEGRATED_MODEL_LABELS[self.integrated_model] if self.integrated_model else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        """The county (``湖里区``)."""
        county = divisions.get(self.region_code)
        return county.name if county else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def city_name(self) -> str | None:
        """The city-level unit of the county (``厦门市``; 平潭 is its own)."""
        code = divisions.city_unit_of(self.region_code)
        city = divisions.get(code) if code else None
        return city.name if city else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def beds_total(self) -> int:
        """养老 + 医疗 床位."""
        return self.beds_elderly_care + self.beds_medical


class DirectoryPage(Page[DirectoryInstitution]):
    nearest_first: bool = Field(
        description="是否按与本机构的距离由近及远排序（本机构有经纬度时）；否则按行政区划、名称排序"
    )
