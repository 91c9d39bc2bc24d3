"""A service's OpenAPI document, refined in one place (:func:`install`, called by ``create_service_app``).

- File answers (PDF, XLSX, images) declared without a schema are typed as binary strings.
- Errors are documented as they are answered: FastAPI describes request-validation failures as
  ``422 HTTPValidationError`` in ``application/json``, the platform answers them as RFC 9457 problems
  (errors.py); every 422 says so, and error responses list ``application/problem+json`` only.
  An operation with a request body also declares the 400 answered when the body cannot be parsed at all.
- Enums carry their Chinese labels: ``x-enum-labels`` (value → label) on every enum schema, and the same
  list in its description for people reading ``/docs``. The labels are found by convention, next to the
  enum: its members' ``label`` property, else a dict of the enum's module keyed by every member (by
  custom named ``*_LABELS``). An inline enum (a ``Literal`` field or query parameter) declares its own
  with ``json_schema_extra=enum_labels({...})``.
- :class:`DocumentedAs` documents a value validated later, record by record (a bulk record arrives as
  ``dict[str, Any]`` so that one bad record never fails the whole request), as the model it must match,
  so that generated clients have a type for it.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from libs.common.errors import PROBLEM_MEDIA_TYPE, Problem

LABELS_KEY = "x-enum-labels"
SCHEMAS_PREFIX = "#/components/schemas/"
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
MALFORMED_BODY_DESCRIPTION = "请求体无法解析（编码或格式无效）"


def enum_labels(labels: Mapping[str, str]) -> dict[str, Any]:
    """``json_schema_extra`` for an inline enum: ``Field(json_schema_extra=enum_labels({"a": "甲"}))``."""
    return {LABELS_KEY: dict(labels)}


class DocumentedAs:
    """``Annotated[dict[str, Any], DocumentedAs(Model)]``: validated by the service, documented as Model."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def __get_pydantic_json_schema__(
        self, _core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = self.model.__pydantic_core_schema__
        # the generator itself (not the handler chain) files the model under its name: a $ref, not a copy
        generator = getattr(handler, "generate_json_schema", None)
        if generator is not None:
            json_schema: JsonSchemaValue = generator.generate_inner(schema)
            return json_schema
        return handler(schema)


# ----------------------------------------------------------------------------------------- enum labels
def _enum_classes() -> Iterator[type[enum.Enum]]:
    pending: list[type[enum.Enum]] = list(enum.Enum.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        yield cls


def labels_of(cls: type[enum.Enum]) -> dict[str, str] | None:
    """The Chinese labels of an enum's values, by the convention of the module docstring (or None)."""
    members = list(cls)
    if all(isinstance(getattr(member, "label", None), str) for member in members):
        return {str(member.value): str(getattr(member, "label")) for member in members}  # noqa: B009
    candidates: list[tuple[bool, str, Mapping[Any, str]]] = []
    module = sys.modules.get(cls.__module__)
    for name, value in vars(module).items() if module else ():
        if not isinstance(value, dict) or not value or not all(isinstance(v, str) for v in value.values()):
            continue
        if set(value) == set(members) or set(value) == {member.value for member in members}:
            candidates.append((not name.endswith("_LABELS"), name, value))
    if not candidates:
        return None
    _, _, mapping = min(candidates, key=lambda c: (c[0], c[1]))
    return {str(key.value if isinstance(key, enum.Enum) else key): label for key, label in mapping.items()}


def _labels_for(schema: Mapping[str, Any], preferred: Sequence[str]) -> dict[str, str] | None:
    title, values = schema.get("title"), schema.get("enum")
    matches = [cls for cls in _enum_classes() if cls.__name__ == title and [m.value for m in cls] == values]
    matches.sort(key=lambda cls: not cls.__module__.startswith(tuple(preferred)))
    for cls in matches:
        labels = labels_of(cls)
        if labels is not None:
            return labels
    return None


def _describe(schema: dict[str, Any], labels: Mapping[str, str]) -> None:
    listing = "；".join(f"`{value}` {label}" for value, label in labels.items())
    line = f"取值：{listing}"
    description = schema.get("description")
    if not description:
        schema["description"] = line
    elif line not in description:
        schema["description"] = f"{description}\n\n{line}"


def _label_enums(document: dict[str, Any], preferred: Sequence[str]) -> None:
    for schema in (document.get("components") or {}).get("schemas", {}).values():
        if "enum" in schema and LABELS_KEY not in schema:
            labels = _labels_for(schema, preferred)
            if labels is not None:
                schema[LABELS_KEY] = labels
        if LABELS_KEY in schema:
            _describe(schema, schema[LABELS_KEY])
    for node in _walk(document.get("paths") or {}):
        if LABELS_KEY in node:
            _describe(node, node[LABELS_KEY])


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


# ----------------------------------------------------------------------------------------------- errors
def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{SCHEMAS_PREFIX}Problem"}}},
    }


def _type_file_bodies(content: dict[str, Any]) -> None:
    """A file answer (PDF, XLSX, an image, CSV) declared without a schema: say it is bytes or text."""
    for media_type, media in content.items():
        if "json" not in media_type and isinstance(media, dict) and "schema" not in media:
            text = media_type.startswith("text/")
            media["schema"] = {"type": "string"} if text else {"type": "string", "format": "binary"}


def _refs(node: Any) -> Iterator[str]:
    for item in _walk(node):
        ref = item.get("$ref")
        if isinstance(ref, str):
            yield ref


def _document_problems(document: dict[str, Any]) -> None:
    validation_ref = f"{SCHEMAS_PREFIX}HTTPValidationError"
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation and "400" not in responses:
                # a body that cannot be parsed at all (not UTF-8, broken multipart) is refused with 400
                # before validation (FastAPI), as problem+json (errors.py): every body may answer it
                responses["400"] = _problem_response(MALFORMED_BODY_DESCRIPTION)
            for status, response in responses.items():
                content = response.get("content") or {}
                if status.startswith("2"):
                    _type_file_bodies(content)
                if status == "422" and validation_ref in set(_refs(content)):
                    operation["responses"][status] = _problem_response("校验失败")
                elif status[:1] in ("4", "5") and PROBLEM_MEDIA_TYPE in content:
                    for media_type in [m for m in content if m != PROBLEM_MEDIA_TYPE]:
                        del content[media_type]  # errors are problem+json, whatever the route's body
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _VALIDATION_SCHEMAS:  # HTTPValidationError first: it refers to ValidationError
        others = {key: value for key, value in schemas.items() if key != name}
        if f"{SCHEMAS_PREFIX}{name}" not in {*_refs(document.get("paths")), *_refs(others)}:
            schemas.pop(name, None)
    if "Problem" not in schemas:
        problem = Problem.model_json_schema(ref_template=SCHEMAS_PREFIX + "{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem


def refine(document: dict[str, Any], *, preferred_modules: Sequence[str] = ()) -> dict[str, Any]:
    """Refine ``document`` in place (see the module docstring); enum classes of ``preferred_modules``
    win over namesakes elsewhere in the process."""
    _document_problems(document)
    _label_enums(document, preferred_modules)
    return document


def install(app: FastAPI, service_name: str) -> None:
    """Make ``app.openapi()`` return the refined document (built once, like FastAPI's own)."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    refined: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not refined:
            refined.append(
                refine(generate(), preferred_modules=(f"services.{service_name}.", "libs.common."))
            )
        return refined[0]

    app.openapi = openapi  # type: ignore[method-assign]
