"""The classifications of institutions, each value with its Chinese label.

``kind`` is the top level (medical / elderly-care / integrated 医养结合); ``category`` the finer class
officials count by (医院, 社区卫生服务中心, …, 养老机构, 农村幸福院, 日间照料中心). A medical category may
belong to a medical or an integrated institution (a 护理院 that runs elderly care is 医办养), an
elderly-care category to an elderly-care or an integrated one (养办医).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class InstitutionKind(StrEnum):
    medical = "medical"
    elderly_care = "elderly_care"
    integrated = "integrated"


KIND_LABELS: Final = {
    InstitutionKind.medical: "医疗机构",
    InstitutionKind.elderly_care: "养老机构",
    InstitutionKind.integrated: "医养结合机构",
}


class Category(StrEnum):
    hospital = "hospital"
    community_health_center = "community_health_center"
    community_health_station = "community_health_station"
    township_health_center = "township_health_center"
    village_clinic = "village_clinic"
    nursing_station = "nursing_station"
    clinic = "clinic"
    infirmary = "infirmary"
    elderly_care_home = "elderly_care_home"
    rural_happiness_home = "rural_happiness_home"
    day_care_center = "day_care_center"
    integrated_institution = "integrated_institution"


CATEGORY_LABELS: Final = {
    Category.hospital: "医院",
    Category.community_health_center: "社区卫生服务中心",
    Category.community_health_station: "社区卫生服务站",
    Category.township_health_center: "乡镇卫生院",
    Category.village_clinic: "村卫生室",
    Category.nursing_station: "护理站",
    Category.clinic: "诊所",
    Category.infirmary: "医务室",
    Category.elderly_care_home: "养老机构",
    Category.rural_happiness_home: "农村幸福院",
    Category.day_care_center: "日间照料中心",
    Category.integrated_institution: "医养结合机构",
}

MEDICAL_CATEGORIES: Final = frozenset(
    {
        Category.hospital,
        Category.community_health_center,
        Category.community_health_station,
        Category.township_health_center,
        Category.village_clinic,
        Category.nursing_station,
        Category.clinic,
        Category.infirmary,
    }
)
ELDERLY_CARE_CATEGORIES: Final = frozenset(
    {Category.elderly_care_home, Category.rural_happiness_home, Category.day_care_center}
)
CATEGORIES_OF_KIND: Final = {
    InstitutionKind.medical: MEDICAL_CATEGORIES,
    InstitutionKind.elderly_care: ELDERLY_CARE_CATEGORIES,
    InstitutionKind.integrated: MEDICAL_CATEGORIES
    | ELDERLY_CARE_CATEGORIES
    | {Category.integrated_institution},
}


class HospitalGrade(StrEnum):
    grade_1 = "grade_1"
    grade_2 = "grade_2"
    grade_3 = "grade_3"
    ungraded = "ungraded"


HOSPITAL_GRADE_LABELS: Final = {
    HospitalGrade.grade_1: "一级",
    HospitalGrade.grade_2: "二级",
    HospitalGrade.grade_3: "三级",
    HospitalGrade.ungraded: "未定级",
}


class HospitalType(StrEnum):
    general = "general"
    tcm = "tcm"
    rehabilitation = "rehabilitation"
    nursing_home = "nursing_home"
    specialist = "specialist"


HOSPITAL_TYPE_LABELS: Final = {
    HospitalType.general: "综合",
    HospitalType.tcm: "中医",
    HospitalType.rehabilitation: "康复",
    HospitalType.nursing_home: "护理院",
    HospitalType.specialist: "专科",
}


class ElderlyCareOwnership(StrEnum):
    """How an elderly-care institution is run: 公办, 民办, 公建民营."""

    public = "public"
    private = "private"
    public_built_private_run = "public_built_private_run"


ELDERLY_CARE_OWNERSHIP_LABELS: Final = {
    ElderlyCareOwnership.public: "公办",
    ElderlyCareOwnership.private: "民办",
    ElderlyCareOwnership.public_built_private_run: "公建民营",
}


class IntegratedModel(StrEnum):
    """Which side set up the other in a 医养结合机构 (医养签约 is an agreement, not a kind)."""

    medical_runs_elderly_care = "medical_runs_elderly_care"
    elderly_care_runs_medical = "elderly_care_runs_medical"


INTEGRATED_MODEL_LABELS: Final = {
    IntegratedModel.medical_runs_elderly_care: "医办养",
    IntegratedModel.elderly_care_runs_medical: "养办医",
}


class Ownership(StrEnum):
    """Public or private (公立/民营)."""

    public = "public"
    private = "private"


OWNERSHIP_LABELS: Final = {Ownership.public: "公立", Ownership.private: "民营"}


class LicenceType(StrEnum):
    """A medical unit holds a 执业许可证 (registration number) or a 备案凭证 (filing number)."""

    practice_licence = "practice_licence"
    filing = "filing"


LICENCE_TYPE_LABELS: Final = {
    LicenceType.practice_licence: "医疗机构执业许可证",
    LicenceType.filing: "诊所备案凭证",
}

# WS 218-2002 kind codes the platform meets (rules.md, confirmed).
WS218_KIND_CODES: Final = {
    "A100": "综合医院",
    "A210": "中医医院",
    "A300": "中西医结合医院",
    "A527": "康复医院",
    "A710": "护理院",
    "A720": "护理站",
    "B100": "社区卫生服务中心",
    "B200": "社区卫生服务站",
    "C100": "街道卫生院",
    "C210": "中心卫生院",
    "C220": "乡卫生院",
    "D110": "综合门诊部",
    "D211": "普通诊所",
    "D212": "中医诊所",
    "D300": "卫生所(室)",
    "D400": "医务室",
    "D600": "村卫生室",
    "G100": "妇幼保健院",
}

# Capability flags: the field names other services read, with their labels.
CAPABILITY_LABELS: Final = {
    "medical_insurance_designated": "医保定点",
    "elderly_green_channel": "开设老年人绿色通道",
    "hospice_care": "安宁疗护",
    "home_bed_service": "家庭病床服务",
    "internet_nursing_provider": "互联网+护理服务",
    "elderly_friendly": "老年友善医疗机构",
    "tcm_hall": "中医馆",
}

BED_LABELS: Final = {
    "beds_elderly_care": "养老床位",
    "beds_medical": "医疗床位",
    "beds_integrated": "医养结合床位",
    "beds_rehabilitation": "康复床位",
    "beds_nursing": "护理床位",
    "beds_hospice": "安宁疗护床位",
}

DISABILITY_LEVEL_LABELS: Final = {1: "轻度失能", 2: "中度失能", 3: "重度失能", 4: "完全失能"}
