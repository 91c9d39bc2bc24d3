"""Request dependencies of the institutions routes: the list filters (shared by list and export), the
point a nearby search is around."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from libs.common.dates import BusinessDate
from libs.common.renamed_fields import old_query, query_value
from libs.common.text import SingleLine
from services.registry.institutions.kinds import Category, InstitutionKind
from services.registry.institutions.service import InstitutionFilter

#: bed-count filters stop at the largest count an institution may record (``schemas.Count``); a larger
#: number would only overflow the database's integer (issue 11: 10**23 answered 500)
MAX_BEDS = 1_000_000


class FilterQuery(BaseModel):
    """The list filters as one query model: FastAPI validates them in one call instead of one per
    parameter (solving 22 parameters one by one was about a third of a list request's Python calls)."""

    kind: Annotated[list[InstitutionKind] | None, Field(description="机构类别（可重复）")] = None
    category: Annotated[list[Category] | None, Field(description="机构细类（可重复）")] = None
    region_code: Annotated[
        str | None,
        Field(pattern=r"^35\d{4}$", description="行政区划（省/市/县代码），与调用者的管辖范围取交集"),
    ] = None
    q: Annotated[
        SingleLine | None, Field(min_length=1, max_length=50, description="名称包含的文字（中文子串）")
    ] = None
    active: Annotated[bool | None, Field(description="是否在用；不传则全部")] = None
    operating_since_from: Annotated[BusinessDate | None, Field(description="开业日期不早于")] = None
    operating_since_to: Annotated[BusinessDate | None, Field(description="开业日期不晚于")] = None
    medical_insurance_designated: Annotated[bool | None, Field(description="医保定点")] = None
    elderly_green_channel: Annotated[bool | None, Field(description="开设老年人绿色通道")] = None
    hospice_care: Annotated[bool | None, Field(description="安宁疗护")] = None
    home_bed_service: Annotated[bool | None, Field(description="家庭病床服务")] = None
    internet_nursing_provider: Annotated[bool | None, Field(description="互联网+护理服务")] = None
    elderly_friendly: Annotated[bool | None, Field(description="老年友善医疗机构")] = None
    tcm_hall: Annotated[bool | None, Field(description="中医馆")] = None
    has_medical_unit: Annotated[bool | None, Field(description="有医疗服务能力（含内设医疗机构备案）")] = None
    beds_elderly_care_min: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="养老床位不少于")] = (
        None
    )
    beds_elderly_care_max: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="养老床位不多于")] = (
        None
    )
    beds_medical_min: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="医疗床位不少于")] = None
    beds_medical_max: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="医疗床位不多于")] = None
    beds_integrated_min: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="医养结合床位不少于")] = (
        None
    )
    beds_integrated_max: Annotated[int | None, Field(ge=0, le=MAX_BEDS, description="医养结合床位不多于")] = (
        None
    )


async def institution_filter(query: Annotated[FilterQuery, Query()]) -> InstitutionFilter:
    flags = {
        name: value
        for name, value in {
            "medical_insurance_designated": query.medical_insurance_designated,
            "elderly_green_channel": query.elderly_green_channel,
            "hospice_care": query.hospice_care,
            "home_bed_service": query.home_bed_service,
            "internet_nursing_provider": query.internet_nursing_provider,
            "elderly_friendly": query.elderly_friendly,
            "tcm_hall": query.tcm_hall,
            "has_medical_unit": query.has_medical_unit,
        }.items()
        if value is not None
    }
    ranges = {
        name: bounds
        for name, bounds in {
            "beds_elderly_care": (query.beds_elderly_care_min, query.beds_elderly_care_max),
            "beds_medical": (query.beds_medical_min, query.beds_medical_max),
            "beds_integrated": (query.beds_integrated_min, query.beds_integrated_max),
        }.items()
        if bounds != (None, None)
    }
    return InstitutionFilter(
        kinds=query.kind or (),
        categories=query.category or (),
        region_code=query.region_code,
        q=query.q,
        active=query.active,
        operating_since_from=query.operating_since_from,
        operating_since_to=query.operating_since_to,
        flags=flags,
        bed_ranges=ranges,
    )


InstitutionFilterDep = Annotated[InstitutionFilter, Depends(institution_filter)]


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


async def nearby_point(
    latitude: Annotated[float | None, Query(ge=-90, le=90, description="纬度（必填；旧名 lat）")] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180, description="经度（必填；旧名 lng）")] = None,
    lat: Annotated[float | None, old_query("latitude", "纬度", ge=-90, le=90)] = None,
    lng: Annotated[float | None, old_query("longitude", "经度", ge=-180, le=180)] = None,
) -> Point:
    """The point ``GET /institutions/nearby`` searches around, named latitude/longitude or (until API
    2.0.0) lat/lng."""
    return Point(
        latitude=query_value("latitude", latitude, "lat", lat),
        longitude=query_value("longitude", longitude, "lng", lng),
    )


NearbyPointDep = Annotated[Point, Depends(nearby_point)]
