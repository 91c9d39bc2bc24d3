"""Wire shapes of institutions (JSON snake_case; every enum with its Chinese label)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    computed_field,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from libs.common import clock, divisions
from libs.common.bulk import BulkRequest, records_field
from libs.common.dates import BusinessDate
from libs.common.identifiers import USCC
from libs.common.openapi import DocumentedAs
from libs.common.renamed_fields import (
    accept_old_names,
    current_fields,
    emit_old_names,
    old_input,
    old_output,
)
from libs.common.text import SingleLine
from services.registry.institutions.kinds import (
    CATEGORIES_OF_KIND,
    CATEGORY_LABELS,
    ELDERLY_CARE_CATEGORIES,
    ELDERLY_CARE_OWNERSHIP_LABELS,
    HOSPITAL_GRADE_LABELS,
    HOSPITAL_TYPE_LABELS,
    INTEGRATED_MODEL_LABELS,
    KIND_LABELS,
    LICENCE_TYPE_LABELS,
    OWNERSHIP_LABELS,
    WS218_KIND_CODES,
    Category,
    ElderlyCareOwnership,
    HospitalGrade,
    HospitalType,
    InstitutionKind,
    IntegratedModel,
    LicenceType,
    Ownership,
)

_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def validate_contact_phone(value: str) -> str:
    number = value.strip().replace(" ", "")
    if _MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number):
        return number
    raise ValueError("联系电话应为 11 位手机号或带区号的固定电话（如 0592-1234567）（invalid phone number）")


def validate_county(value: str) -> str:
    if not divisions.is_county(value):
        raise ValueError("须为福建省内的县级行政区划代码（region_code must be a Fujian county code）")
    return value


def validate_ws218(value: str) -> str:
    code = value.strip().upper()
    if re.fullmatch(r"[A-Z][0-9]{3}", code) is None:
        raise ValueError("WS 218 机构类别代码应为 1 个大写字母加 3 位数字，如 A100（kind code like A100）")
    return code


ContactPhone = Annotated[str, AfterValidator(validate_contact_phone)]
CountyCode = Annotated[
    str,
    Field(pattern=r"^\d{6}$", description="县级行政区划代码", examples=["350206"]),
    AfterValidator(validate_county),
]
WS218Code = Annotated[str, AfterValidator(validate_ws218)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
Year = Annotated[int, Field(ge=1949, le=2100)]
Latitude = Annotated[float, Field(ge=20.0, le=30.0, description="纬度 (WGS-84)，福建省范围内")]
Longitude = Annotated[float, Field(ge=113.0, le=123.0, description="经度 (WGS-84)，福建省范围内")]

#: public names replaced by the platform's vocabulary (old → new); the old ones work until API 2.0.0
RENAMED = {"lat": "latitude", "lng": "longitude"}

BED_FIELDS = (
    "beds_elderly_care",
    "beds_medical",
    "beds_integrated",
    "beds_rehabilitation",
    "beds_nursing",
    "beds_hospice",
)
FLAG_FIELDS = (
    "medical_insurance_designated",
    "elderly_green_channel",
    "hospice_care",
    "home_bed_service",
    "internet_nursing_provider",
    "elderly_friendly",
    "tcm_hall",
)
#: the first year of the national 老年友善医疗机构 recognition (国卫老龄函〔2020〕457 号)
ELDERLY_FRIENDLY_FIRST_YEAR = 2020
#: the kinds that have a medical side (a licensed or filed medical institution of their own)
MEDICAL_SIDE_KINDS = frozenset({InstitutionKind.medical, InstitutionKind.integrated})
RESIDENT_FIELDS = (
    "residents",
    "disabled_level_1",
    "disabled_level_2",
    "disabled_level_3",
    "disabled_level_4",
    "dementia_residents",
)
# What an institution's own admin may not change (403 field_not_editable).
INSTITUTION_LOCKED_FIELDS = frozenset(
    {
        "kind",
        "category",
        "uscc",
        "region_code",
        "provincial_demonstration_year",
    }
)


#: written only by the 全国示范 naming step (``demonstration/transitions.py``); readable, never an input
NAMING_YEAR_FIELD = "national_demonstration_year"


def refuse_naming_year(data: Any) -> Any:
    """Refuse an input carrying the national 示范 year (stable code ``demonstration_year_read_only``)."""
    if isinstance(data, dict) and NAMING_YEAR_FIELD in data:
        raise PydanticCustomError(
            "demonstration_year_read_only",
            "全国医养结合示范机构命名年份（national_demonstration_year）只能由省级示范命名流程写入，不能直接填写",
        )
    return data


#: derived from ``elderly_friendly_year`` (recognised ⇔ a year is recorded); readable, never an input
ELDERLY_FRIENDLY_FIELD = "elderly_friendly"


def refuse_elderly_friendly_flag(data: Any) -> Any:
    """Refuse an input carrying the derived 老年友善 flag (stable code ``elderly_friendly_derived``)."""
    if isinstance(data, dict) and ELDERLY_FRIENDLY_FIELD in data:
        raise PydanticCustomError(
            "elderly_friendly_derived",
            "是否为老年友善医疗机构由认定年份（elderly_friendly_year）决定，"
            "请填写认定年份，不要直接填写 elderly_friendly",
        )
    return data


def _medical_side_only(value: Any, info: ValidationInfo, *, code: str, what: str) -> Any:
    """``value`` (a flag or a year) may be set only on an institution with a medical side."""
    kind = info.data.get("kind")
    if value and kind is not None and kind not in MEDICAL_SIDE_KINDS:
        raise PydanticCustomError(
            code,
            f"{what}只适用于医疗机构和医养结合机构（养老机构、农村幸福院、日间照料中心不能填写）",
        )
    return value


def check_elderly_friendly_year(value: int | None, info: ValidationInfo) -> int | None:
    """老年友善 recognition: from 2020, not in the future (中国标准时间), only with a medical side."""
    if value is None:
        return None
    if value > clock.today_in_china().year:
        raise PydanticCustomError("elderly_friendly_year_in_future", "老年友善医疗机构认定年份不能晚于今年")
    result: int = _medical_side_only(
        value, info, code="elderly_friendly_needs_medical_side", what="老年友善医疗机构认定"
    )
    return result


def check_green_channel(value: bool, info: ValidationInfo) -> bool:
    """The elders' 绿色通道 is run by a medical institution (indicators.md ``green_channel_rate``)."""
    result: bool = _medical_side_only(
        value, info, code="green_channel_needs_medical_side", what="老年人绿色通道"
    )
    return result


class InstitutionFields(BaseModel):
    """Everything a client may write about an institution (create; PATCH sends a subset)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=2, max_length=200, examples=["厦门市莲花爱心护理院"])
    kind: InstitutionKind = Field(description="医疗机构 / 养老机构 / 医养结合机构")
    category: Category = Field(description="机构细类（医院、社区卫生服务中心、养老机构……）")
    hospital_grade: HospitalGrade | None = Field(default=None, description="医院等级（仅医院）")
    hospital_type: HospitalType | None = Field(default=None, description="医院类型（仅医院）")
    elderly_care_ownership: ElderlyCareOwnership | None = Field(
        default=None, description="养老机构性质：公办/民办/公建民营"
    )
    integrated_model: IntegratedModel | None = Field(
        default=None, description="医养结合模式：医办养/养办医（仅医养结合机构，必填）"
    )
    ownership: Ownership | None = Field(default=None, description="公立/民营")

    uscc: USCC | None = Field(
        default=None, description="统一社会信用代码 (GB 32100)", examples=["12350200MB0123456X"]
    )
    ws218_kind_code: WS218Code | None = Field(
        default=None, description="医疗机构类别代码 (WS 218)", examples=["A710"]
    )
    licence_type: LicenceType | None = Field(default=None, description="执业许可证或备案凭证")
    licence_no: SingleLine | None = Field(default=None, max_length=60, description="执业许可证登记号或备案号")

    region_code: CountyCode
    address: SingleLine | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    lat: Latitude | None = old_input("latitude", "纬度")
    lng: Longitude | None = old_input("longitude", "经度")

    operating_since: BusinessDate | None = Field(default=None, description="开业（成立）日期")
    medical_operating_since: BusinessDate | None = Field(default=None, description="医疗服务开展日期")
    elderly_care_operating_since: BusinessDate | None = Field(default=None, description="养老服务开展日期")

    legal_person: SingleLine | None = Field(default=None, max_length=50, description="法定代表人")
    contact_name: SingleLine | None = Field(default=None, max_length=50)
    contact_phone: ContactPhone | None = Field(default=None, description="联系电话（个人信息，加密保存）")

    beds_elderly_care: Count = Field(default=0, description="养老床位")
    beds_medical: Count = Field(default=0, description="医疗床位")
    beds_integrated: Count = Field(default=0, description="医养结合床位")
    beds_rehabilitation: Count = Field(default=0, description="康复床位")
    beds_nursing: Count = Field(default=0, description="护理床位")
    beds_hospice: Count = Field(default=0, description="安宁疗护床位")

    residents: Count = Field(default=0, description="入住人数")
    disabled_level_1: Count = Field(default=0, description="轻度失能 (GB/T 42195 1 级)")
    disabled_level_2: Count = Field(default=0, description="中度失能 (2 级)")
    disabled_level_3: Count = Field(default=0, description="重度失能 (3 级)")
    disabled_level_4: Count = Field(default=0, description="完全失能 (4 级)")
    dementia_residents: Count = Field(default=0, description="失智人数")

    medical_insurance_designated: bool = Field(default=False, description="医保定点")
    elderly_green_channel: bool = Field(default=False, description="开设老年人绿色通道")
    hospice_care: bool = Field(default=False, description="安宁疗护")
    home_bed_service: bool = Field(default=False, description="家庭病床服务")
    internet_nursing_provider: bool = Field(default=False, description="互联网+护理服务提供机构")
    elderly_friendly_year: int | None = Field(
        default=None,
        ge=ELDERLY_FRIENDLY_FIRST_YEAR,
        description="老年友善医疗机构认定年份（2020 年起，不晚于今年；仅医疗机构、医养结合机构）；"
        "填写即为老年友善医疗机构",
    )
    tcm_hall: bool = Field(default=False, description="中医馆")

    provincial_demonstration_year: Year | None = Field(
        default=None, description="省级医养结合示范机构命名年份"
    )

    _no_naming_year = model_validator(mode="before")(refuse_naming_year)
    _no_friendly_flag = model_validator(mode="before")(refuse_elderly_friendly_flag)
    _old_names = model_validator(mode="wrap")(accept_old_names(RENAMED))
    _green_channel = field_validator("elderly_green_channel")(check_green_channel)
    _friendly_year = field_validator("elderly_friendly_year")(check_elderly_friendly_year)

    @computed_field(description="老年友善医疗机构（由认定年份得出）")  # type: ignore[prop-decorator]
    @property
    def elderly_friendly(self) -> bool:
        """Recognised as 老年友善 exactly when a recognition year is recorded (the one source of truth)."""
        return self.elderly_friendly_year is not None

    @field_validator("licence_no")
    @classmethod
    def _licence_no(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = "".join(value.split()).upper()
        return cleaned or None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors: list[str] = []
        if self.category not in CATEGORIES_OF_KIND[self.kind]:
            errors.append(
                f"机构细类「{CATEGORY_LABELS[self.category]}」不属于「{KIND_LABELS[self.kind]}」"
                "（category does not belong to kind）"
            )
        if self.category is not Category.hospital and (self.hospital_grade or self.hospital_type):
            errors.append("医院等级、医院类型只适用于医院（hospital grade/type only for hospitals）")
        if self.kind is InstitutionKind.integrated and self.integrated_model is None:
            errors.append("医养结合机构须填写医养结合模式：医办养或养办医（integrated_model required）")
        if self.kind is not InstitutionKind.integrated and self.integrated_model is not None:
            errors.append("只有医养结合机构才有医养结合模式（integrated_model only for integrated）")
        if self.elderly_care_ownership is not None and self.kind is InstitutionKind.medical:
            errors.append("养老机构性质不适用于医疗机构（elderly_care_ownership not for medical）")
        if self.licence_no is not None and self.licence_type is None:
            errors.append("填写登记号/备案号时须注明是执业许可证还是备案凭证（licence_type required）")
        if (self.latitude is None) != (self.longitude is None):
            errors.append("经纬度须同时填写（latitude and longitude go together）")
        disabled = (
            self.disabled_level_1 + self.disabled_level_2 + self.disabled_level_3 + self.disabled_level_4
        )
        if disabled > self.residents or self.dementia_residents > self.residents:
            errors.append("失能、失智人数不能超过入住人数（disabled/dementia residents exceed residents）")
        if errors:
            raise ValueError("；".join(errors))
        return self


class InstitutionCreate(InstitutionFields):
    pass


#: what a client writes about an institution, under the current names
WRITABLE_FIELDS = current_fields(InstitutionCreate)


class InstitutionUpdate(BaseModel):
    """PATCH: only the fields sent change; the merged record is validated as a whole."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine | None = Field(default=None, min_length=2, max_length=200)
    kind: InstitutionKind | None = None
    category: Category | None = None
    hospital_grade: HospitalGrade | None = None
    hospital_type: HospitalType | None = None
    elderly_care_ownership: ElderlyCareOwnership | None = None
    integrated_model: IntegratedModel | None = None
    ownership: Ownership | None = None
    uscc: USCC | None = None
    ws218_kind_code: WS218Code | None = None
    licence_type: LicenceType | None = None
    licence_no: SingleLine | None = Field(default=None, max_length=60)
    region_code: CountyCode | None = None
    address: SingleLine | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    lat: Latitude | None = old_input("latitude", "纬度")
    lng: Longitude | None = old_input("longitude", "经度")
    operating_since: BusinessDate | None = None
    medical_operating_since: BusinessDate | None = None
    elderly_care_operating_since: BusinessDate | None = None
    legal_person: SingleLine | None = Field(default=None, max_length=50)
    contact_name: SingleLine | None = Field(default=None, max_length=50)
    contact_phone: ContactPhone | None = None
    beds_elderly_care: Count | None = None
    beds_medical: Count | None = None
    beds_integrated: Count | None = None
    beds_rehabilitation: Count | None = None
    beds_nursing: Count | None = None
    beds_hospice: Count | None = None
    residents: Count | None = None
    disabled_level_1: Count | None = None
    disabled_level_2: Count | None = None
    disabled_level_3: Count | None = None
    disabled_level_4: Count | None = None
    dementia_residents: Count | None = None
    medical_insurance_designated: bool | None = None
    elderly_green_channel: bool | None = None
    hospice_care: bool | None = None
    home_bed_service: bool | None = None
    internet_nursing_provider: bool | None = None
    elderly_friendly_year: int | None = Field(default=None, ge=ELDERLY_FRIENDLY_FIRST_YEAR)
    tcm_hall: bool | None = None
    provincial_demonstration_year: Year | None = None

    _no_naming_year = model_validator(mode="before")(refuse_naming_year)
    _no_friendly_flag = model_validator(mode="before")(refuse_elderly_friendly_flag)
    _old_names = model_validator(mode="wrap")(accept_old_names(RENAMED))


class InstitutionRead(BaseModel):
    """An institution as other services and the SPA read it.

    Stable for other services: ``id, name, kind, category, region_code, active, has_medical_unit,
    internet_nursing_provider, home_bed_service, latitude, longitude`` (``lat``, ``lng``: their old
    names, emitted until API 2.0.0).
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: InstitutionKind
    category: Category
    region_code: str
    active: bool
    has_medical_unit: bool
    internet_nursing_provider: bool
    home_bed_service: bool
    latitude: float | None = Field(description="纬度 (WGS-84)")
    longitude: float | None = Field(description="经度 (WGS-84)")
    lat: float | None = old_output("latitude", "纬度")
    lng: float | None = old_output("longitude", "经度")

    hospital_grade: HospitalGrade | None
    hospital_type: HospitalType | None
    elderly_care_ownership: ElderlyCareOwnership | None
    integrated_model: IntegratedModel | None
    ownership: Ownership | None
    uscc: str | None
    ws218_kind_code: str | None
    licence_type: LicenceType | None
    licence_no: str | None
    address: str | None
    operating_since: date | None
    medical_operating_since: date | None
    elderly_care_operating_since: date | None
    legal_person: str | None
    contact_name: str | None
    contact_phone: str | None = Field(default=None, description="联系电话：除本机构用户外均脱敏显示")
    beds_elderly_care: int
    beds_medical: int
    beds_integrated: int
    beds_rehabilitation: int
    beds_nursing: int
    beds_hospice: int
    residents: int
    disabled_level_1: int
    disabled_level_2: int
    disabled_level_3: int
    disabled_level_4: int
    dementia_residents: int
    medical_insurance_designated: bool
    elderly_green_channel: bool
    hospice_care: bool
    elderly_friendly: bool = Field(description="老年友善医疗机构（由认定年份得出，只读）")
    elderly_friendly_year: int | None = Field(description="老年友善医疗机构认定年份")
    tcm_hall: bool
    national_demonstration_year: int | None
    provincial_demonstration_year: int | None
    source_system: str | None
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list, description="非阻断性提示（如登记号与类别代码不一致）")

    _old_names = model_serializer(mode="wrap")(emit_old_names(RENAMED))

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
    def hospital_type_label(self) -> str | None:
        return HOSPITAL_TYPE_LABELS[self.hospital_type] if self.hospital_type else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def elderly_care_ownership_label(self) -> str | None:
        return (
            ELDERLY_CARE_OWNERSHIP_LABELS[self.elderly_care_ownership]
            if self.elderly_care_ownership
            else None
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def integrated_model_label(self) -> str | None:
        return INTEGRATED_MODEL_LABELS[self.integrated_model] if self.integrated_model else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ownership_label(self) -> str | None:
        return OWNERSHIP_LABELS[self.ownership] if self.ownership else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def licence_type_label(self) -> str | None:
        return LICENCE_TYPE_LABELS[self.licence_type] if self.licence_type else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ws218_kind_label(self) -> str | None:
        return WS218_KIND_CODES.get(self.ws218_kind_code) if self.ws218_kind_code else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def disabled_residents(self) -> int:
        """失能 residents of any level (1–4)."""
        return self.disabled_level_1 + self.disabled_level_2 + self.disabled_level_3 + self.disabled_level_4

    @computed_field  # type: ignore[prop-decorator]
    @property
    def beds_total(self) -> int:
        """养老 + 医疗 床位 (医养结合/康复/护理/安宁疗护 are counted within them)."""
        return self.beds_elderly_care + self.beds_medical


class NearbyInstitution(BaseModel):
    institution: InstitutionRead
    distance_km: float = Field(description="直线距离（公里，haversine）")


class ChangeHistoryEntry(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    actor_sub: str
    actor_role: str
    action: str
    fields: list[str] = Field(description="本次变更涉及的字段")
    changes: dict[str, Any] | None = Field(description="字段的旧值与新值（个人信息已脱敏）")
    request_id: str | None


class YearStatWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "operating_beds": 120,
                    "occupied_bed_days": 35040,
                    "residents": 96,
                    "disabled_residents": 40,
                    "dementia_residents": 12,
                    "disabled_or_dementia_residents": 46,
                }
            ]
        },
    )

    operating_beds: Count = Field(description="实际开放床位（全年平均）")
    occupied_bed_days: Count = Field(description="实际占用总床日数")
    residents: Count = Field(description="年末入住人数")
    disabled_residents: Count = Field(description="失能（1 级及以上）人数")
    dementia_residents: Count = Field(description="失智人数")
    disabled_or_dementia_residents: Count = Field(description="失能或失智人数（两者兼有者只计一次）")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        union = self.disabled_or_dementia_residents
        if union < max(self.disabled_residents, self.dementia_residents):
            raise ValueError("失能或失智人数不能少于失能人数或失智人数（union smaller than a part）")
        if union > self.disabled_residents + self.dementia_residents:
            raise ValueError("失能或失智人数不能多于两者之和（union larger than the sum）")
        if union > self.residents:
            raise ValueError("失能或失智人数不能超过入住人数（more than residents）")
        if self.occupied_bed_days > self.operating_beds * 366:
            raise ValueError("实际占用总床日数超过开放床位 × 全年天数（more bed-days than possible）")
        return self


class YearStatRead(YearStatWrite):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    institution_id: uuid.UUID
    year: int
    version: int
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def occupancy_rate(self) -> float | None:
        """病床使用率 = 实际占用总床日数 ÷ (实际开放床位 × 全年天数)."""
        days = 366 if (self.year % 4 == 0 and self.year % 100 != 0) or self.year % 400 == 0 else 365
        if self.operating_beds == 0:
            return None
        return round(self.occupied_bed_days / (self.operating_beds * days), 4)


class EnumValue(BaseModel):
    value: str
    label: str


class InstitutionEnums(BaseModel):
    kinds: list[EnumValue]
    categories: list[EnumValue]
    categories_of_kind: dict[str, list[str]]
    hospital_grades: list[EnumValue]
    hospital_types: list[EnumValue]
    elderly_care_ownerships: list[EnumValue]
    integrated_models: list[EnumValue]
    ownerships: list[EnumValue]
    licence_types: list[EnumValue]
    ws218_kind_codes: list[EnumValue]
    capabilities: list[EnumValue]
    beds: list[EnumValue]


def is_elderly_care_category(category: Category) -> bool:
    return category in ELDERLY_CARE_CATEGORIES


# ----------------------------------------------------------------------- bulk upsert and import


class InstitutionBulkRecord(InstitutionCreate):
    """One record of a city platform's batch: an institution keyed by ``external_id``. A record that
    matches one already pushed changes only the fields it carries (the others stay as registered)."""

    external_id: SingleLine = Field(
        min_length=1, max_length=100, description="城市平台内的机构编号", examples=["XM-0001"]
    )


class InstitutionBulkRequest(BulkRequest):
    """A city platform's batch (libs/common/bulk.py): each record is an institution (fields as in
    ``InstitutionCreate``) plus its ``external_id``; records are validated one by one, so one bad record
    rejects only itself."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "XM-0001",
                            "name": "湖里区示例护理院",
                            "kind": "elderly_care",
                            "category": "elderly_care_home",
                            "region_code": "350206",
                        }
                    ],
                }
            ]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(InstitutionBulkRecord)]] = records_field(
        InstitutionBulkRecord
    )
