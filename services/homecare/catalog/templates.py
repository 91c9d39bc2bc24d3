"""Visit record templates (issue 18): per catalog item, the fields a visit record of that item requires
and their checks, as versioned data beside the catalog (``data/record_templates.json``, read once at
start-up into ``app.state.record_templates``).

A version (``tpl-1`` …) holds a ``base`` every item has and one template per item code. A record is
checked against the version it names (else the current one): for each item done, the base and the item's
fields, its photo count and whether a signature is needed. Vital signs (体温, 脉搏, 呼吸, 血压, 血氧, 血糖)
are read from the record's ``vital_signs``; every other field from its ``fields``. A version is never
edited: a new one is added, the old one kept (``status: retired`` once records may no longer name it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common.errors import FieldError
from libs.common.openapi import enum_labels

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "record_templates.json"

# the keys a template may name that live in the record's vital_signs, not in its fields
VITAL_KEYS = frozenset(
    {
        "temperature_c",
        "pulse",
        "respiration_rate",
        "bp_systolic",
        "bp_diastolic",
        "spo2",
        "blood_glucose_mmol",
    }
)
FieldSource = Literal["rules.md", "catalog", "likely"]
SOURCE_LABELS = {"rules.md": "领域规则", "catalog": "目录项目的列", "likely": "我方推断（待确认）"}
VersionStatus = Literal["current", "active", "retired"]
STATUS_LABELS = {"current": "当前版本", "active": "仍可使用", "retired": "已停用"}
FieldValue = bool | int | float | str


class _Field(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["wound_length_cm"])
    label: str = Field(min_length=1, max_length=40, examples=["伤口长"])
    required: bool = True
    source: FieldSource = Field(
        description="依据：rules.md（领域规则）、catalog（目录项目的列）、likely（我方推断，待确认）",
        json_schema_extra=enum_labels(SOURCE_LABELS),
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_vital_signs(self) -> bool:
        """True: the value is sent in the record's ``vital_signs``, else in its ``fields``."""
        return self.key in VITAL_KEYS


class NumberField(_Field):
    type: Literal["number"]
    unit: str = Field(max_length=20)
    min: Decimal
    max: Decimal
    decimals: int = Field(ge=0, le=3, description="最多小数位数")


class IntegerField(_Field):
    type: Literal["integer"]
    unit: str = Field(max_length=20)
    min: int
    max: int


class ChoiceOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(max_length=40)
    label: str = Field(max_length=40)


class ChoiceField(_Field):
    type: Literal["choice"]
    options: list[ChoiceOption] = Field(min_length=2)


class BooleanField(_Field):
    type: Literal["boolean"]


class TextField(_Field):
    type: Literal["text"]
    max_length: int = Field(ge=1, le=4000)


TemplateField = Annotated[
    NumberField | IntegerField | ChoiceField | BooleanField | TextField, Field(discriminator="type")
]


class TemplatePart(BaseModel):
    """The fields of the base or of one item, with the evidence a record of it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[TemplateField]
    photos_min: int = Field(default=0, ge=0, le=10, description="至少几张照片")
    signature_required: bool = Field(default=False, description="是否须服务对象或家属签名")


class TemplateVersion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    status: VersionStatus
    published_date: str
    source: str
    base: TemplatePart
    items: dict[str, TemplatePart]


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str
    versions: list[TemplateVersion] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class RecordTemplates:
    """The loaded file: its versions by code, the current one, and an ETag of its content."""

    versions: dict[str, TemplateVersion]
    current: str
    etag: str

    @property
    def current_version(self) -> TemplateVersion:
        return self.versions[self.current]

    def get(self, version: str | None) -> TemplateVersion | None:
        return self.versions.get(version or self.current)

    def accepts(self, version: str) -> bool:
        """May a new record name this version? (known and not retired)"""
        found = self.versions.get(version)
        return found is not None and found.status != "retired"


def parse(data: bytes) -> RecordTemplates:
    """The templates of a file's content; raises ValueError unless exactly one version is current."""
    loaded = TemplateFile.model_validate_json(data)
    versions = {v.version: v for v in loaded.versions}
    current = [v.version for v in loaded.versions if v.status == "current"]
    if len(current) != 1 or len(versions) != len(loaded.versions):
        raise ValueError("record templates: exactly one current version, each version once")
    for version in loaded.versions:
        for part in [version.base, *version.items.values()]:
            keys = [f.key for f in part.fields]
            if len(keys) != len(set(keys)):
                raise ValueError(f"record templates {version.version}: a field named twice in one part")
    return RecordTemplates(versions=versions, current=current[0], etag=hashlib.sha256(data).hexdigest()[:32])


def load(path: Path = DATA_FILE) -> RecordTemplates:
    return parse(path.read_bytes())


# ----------------------------------------------------------------------------------------- checking


@dataclass(frozen=True, slots=True)
class RecordValues:
    """What a record says, as the templates check it."""

    vital_signs: dict[str, Any]
    fields: dict[str, FieldValue]
    photo_count: int
    has_signature: bool


def required_parts(version: TemplateVersion, item_codes: list[str]) -> list[TemplatePart]:
    return [version.base, *(version.items[c] for c in item_codes if c in version.items)]


def violations(version: TemplateVersion, item_codes: list[str], values: RecordValues) -> list[FieldError]:
    """Each way the record fails the template of its items (empty: it passes). Field names are the
    request's (``body.vital_signs.pulse``, ``body.fields.wound_length_cm``), reasons in Chinese."""
    parts = required_parts(version, item_codes)
    specs: dict[str, _Field] = {}
    for part in parts:
        for spec in part.fields:
            # a field named by several items is required when any of them requires it
            known = specs.get(spec.key)
            if known is None or (spec.required and not known.required):
                specs[spec.key] = spec
    errors: list[FieldError] = []
    for key in sorted((set(values.fields) - set(specs)) | (set(values.fields) & VITAL_KEYS)):
        reason = "请填写在 vital_signs 中" if key in VITAL_KEYS else "所做项目的记录模板中没有此字段"
        errors.append(FieldError(field=f"body.fields.{key}", message=reason, code="field_not_in_template"))
    for key, wanted in specs.items():
        where = "vital_signs" if key in VITAL_KEYS else "fields"
        value = (values.vital_signs if key in VITAL_KEYS else values.fields).get(key)
        if value is None:
            if wanted.required:
                errors.append(
                    FieldError(field=f"body.{where}.{key}", message=f"须填写{wanted.label}", code="required")
                )
            continue
        problem = _check(wanted, value)
        if problem is not None:
            errors.append(FieldError(field=f"body.{where}.{key}", message=problem[1], code=problem[0]))
    photos_min = max(p.photos_min for p in parts)
    if values.photo_count < photos_min:
        errors.append(
            FieldError(
                field="body.photo_sha256",
                message=f"所做项目须至少 {photos_min} 张照片",
                code="photos_missing",
            )
        )
    if any(p.signature_required for p in parts) and not values.has_signature:
        errors.append(
            FieldError(field="body.signature_sha256", message="所做项目须有签名", code="signature_missing")
        )
    return errors


def _check(spec: _Field, value: Any) -> tuple[str, str] | None:
    """(code, reason) when ``value`` fails ``spec``'s check."""
    if isinstance(spec, NumberField | IntegerField):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            return "not_a_number", f"{spec.label}须为数值"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "not_a_number", f"{spec.label}须为数值"
        if not number.is_finite():
            return "not_a_number", f"{spec.label}须为数值"
        if isinstance(spec, IntegerField) and (
            isinstance(value, float | str) or number != number.to_integral()
        ):
            return "not_an_integer", f"{spec.label}须为整数"
        if isinstance(spec, NumberField):
            exponent = number.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > spec.decimals:
                return "too_many_decimals", f"{spec.label}最多 {spec.decimals} 位小数"
        if not spec.min <= number <= spec.max:
            return "out_of_range", f"{spec.label}须在 {spec.min}–{spec.max} {spec.unit}之间"
        return None
    if isinstance(spec, ChoiceField):
        if not isinstance(value, str) or value not in {o.value for o in spec.options}:
            allowed = "、".join(f"{o.value}（{o.label}）" for o in spec.options)
            return "not_a_choice", f"{spec.label}须为以下之一：{allowed}"
        return None
    if isinstance(spec, BooleanField):
        return None if isinstance(value, bool) else ("not_a_boolean", f"{spec.label}须为是或否")
    if isinstance(spec, TextField):
        if not isinstance(value, str) or not value.strip():
            return "not_a_text", f"{spec.label}须为非空文字"
        if len(value) > spec.max_length:
            return "too_long", f"{spec.label}最多 {spec.max_length} 字"
        return None
    return None  # pragma: no cover - every field type is handled above


def sample_fields(version: TemplateVersion, item_codes: list[str]) -> dict[str, FieldValue]:
    """Values of every required non-vital field of these items that pass the checks (a number at its
    minimum, a choice's first option, true, a short text): what the demo, the benchmark and the tests
    fill a record with when the record's content is not what they are about."""
    values: dict[str, FieldValue] = {}
    for part in required_parts(version, sorted(set(item_codes))):
        for spec in part.fields:
            if not spec.required or spec.key in VITAL_KEYS:
                continue
            if isinstance(spec, IntegerField):
                values[spec.key] = spec.min
            elif isinstance(spec, NumberField):
                values[spec.key] = float(spec.min)
            elif isinstance(spec, ChoiceField):
                values[spec.key] = spec.options[0].value
            elif isinstance(spec, BooleanField):
                values[spec.key] = True
            elif isinstance(spec, TextField):
                values[spec.key] = "已完成"
    return values


# vital signs inside every vital field's range (the companion of sample_fields)
SAMPLE_VITAL_SIGNS: dict[str, FieldValue] = {
    "bp_systolic": 132,
    "bp_diastolic": 84,
    "pulse": 74,
    "respiration_rate": 18,
    "temperature_c": "36.6",
    "spo2": 97,
    "blood_glucose_mmol": "6.8",
}
