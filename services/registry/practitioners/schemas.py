"""Wire shapes of practitioners. Other services read ``id, institution_id, kind, title,
homecare_eligible, trainings[].item_codes, active`` — keep those names."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_serializer,
    model_validator,
)

from libs.common.bulk import BulkRequest, records_field
from libs.common.identifiers import IdCardNumber, MobilePhone
from libs.common.openapi import DocumentedAs
from libs.common.renamed_fields import accept_old_names, emit_old_names, old_input, old_output
from libs.common.text import SingleLine
from services.registry.practitioners.models import (
    PRACTITIONER_KIND_LABELS,
    TITLE_LABELS,
    TITLE_LADDERS,
    PractitionerKind,
    Title,
)

ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}[0-9]{1,4}$", max_length=8)]


class Training(BaseModel):
    """A training certificate, e.g. 医疗护理员培训合格证书, or specialist training for catalog items."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine = Field(min_length=2, max_length=100, examples=["PICC 维护专科护士培训"])
    certificate_no: SingleLine | None = Field(default=None, max_length=60)
    issued_date: date | None = None
    item_codes: list[ItemCode] = Field(
        default_factory=list, description="该培训使该人员可提供的互联网+护理服务项目编码", examples=[["HC16"]]
    )


def _check_title(kind: PractitionerKind | None, title: Title | None) -> None:
    if kind is None or title is None:
        return
    if title not in TITLE_LADDERS[kind]:
        raise ValueError(
            f"职称「{TITLE_LABELS[title]}」不适用于「{PRACTITIONER_KIND_LABELS[kind]}」"
            "（title does not fit kind）"
        )


#: public names replaced by the platform's vocabulary (old → new); the old ones work until API 2.0.0
RENAMED = {"id_card": "id_number"}


class PractitionerCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    institution_id: uuid.UUID
    name: SingleLine = Field(min_length=2, max_length=50, examples=["林晓燕"])
    kind: PractitionerKind
    title: Title | None = Field(default=None, description="专业技术职称（护理员无）")
    practice_certificate_no: SingleLine | None = Field(
        default=None, max_length=40, description="执业证书编号"
    )
    clinical_years: int = Field(default=0, ge=0, le=60, description="临床工作年限")
    id_number: IdCardNumber | None = Field(default=None, description="居民身份证号（个人信息，加密保存）")
    id_card: IdCardNumber | None = old_input("id_number", "居民身份证号")
    phone: MobilePhone | None = Field(default=None, description="手机号（个人信息，加密保存）")
    trainings: list[Training] = Field(default_factory=list, max_length=50)
    misconduct_recorded: bool = Field(default=False, description="有不良执业记录")

    _old_names = model_validator(mode="wrap")(accept_old_names(RENAMED))

    @model_validator(mode="after")
    def _title_fits(self) -> Self:
        _check_title(self.kind, self.title)
        return self


class PractitionerUpdate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: SingleLine | None = Field(default=None, min_length=2, max_length=50)
    kind: PractitionerKind | None = None
    title: Title | None = None
    practice_certificate_no: SingleLine | None = Field(default=None, max_length=40)
    clinical_years: int | None = Field(default=None, ge=0, le=60)
    id_number: IdCardNumber | None = None
    id_card: IdCardNumber | None = old_input("id_number", "居民身份证号")
    phone: MobilePhone | None = None
    trainings: list[Training] | None = Field(default=None, max_length=50)
    misconduct_recorded: bool | None = None

    _old_names = model_validator(mode="wrap")(accept_old_names(RENAMED))


class PractitionerLookup(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"id_number": "350206198503150021"}]}
    )

    id_number: IdCardNumber
    id_card: IdCardNumber | None = old_input("id_number", "居民身份证号")

    _old_names = model_validator(mode="wrap")(accept_old_names(RENAMED))


class PractitionerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    institution_id: uuid.UUID
    region_code: str
    name: str
    kind: PractitionerKind
    title: Title | None
    practice_certificate_no: str | None
    clinical_years: int
    id_number: str | None = Field(default=None, description="身份证号：除本机构管理员和本人外脱敏显示")
    id_card: str | None = old_output("id_number", "身份证号")
    phone: str | None = Field(default=None, description="手机号：除本机构管理员和本人外脱敏显示")
    trainings: list[Training]
    misconduct_recorded: bool
    active: bool
    homecare_eligible: bool = Field(
        default=False, description="可提供互联网+护理服务：护士、临床护理≥5年、护师及以上、无不良执业记录"
    )
    version: int
    created_at: datetime
    updated_at: datetime

    _old_names = model_serializer(mode="wrap")(emit_old_names(RENAMED))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return PRACTITIONER_KIND_LABELS[self.kind]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def title_label(self) -> str | None:
        return TITLE_LABELS[self.title] if self.title else None


class PractitionerRecord(PractitionerCreate):
    """One practitioner of ``POST /practitioners/bulk``: the body of ``POST /practitioners`` with its key
    and whether the person still works at the institution."""

    external_id: str = Field(description="来源系统内的人员编号（与批次的 source_system 一起作为键）")
    active: bool = Field(default=True, description="在岗（false：已离职或停用）")


class PractitionerBulkRequest(BulkRequest):
    """A batch of practitioners (libs/common/bulk.py): each record is validated on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "RY-0001",
                            "institution_id": "3f1c2a9e-7d4b-4c1e-9a52-0b8e6f1d2c31",
                            "name": "林晓燕",
                            "kind": "nurse",
                            "title": "supervising_nurse",
                            "practice_certificate_no": "201835020012",
                            "clinical_years": 12,
                            "id_number": "350206198503150021",
                            "phone": "13812345678",
                        }
                    ],
                }
            ]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(PractitionerRecord)]] = records_field(
        PractitionerRecord
    )
