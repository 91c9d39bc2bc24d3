"""Public names that changed keep working for one version (one vocabulary across the API, issue 12).

A renamed field (``lat`` → ``latitude``) is declared once per model as ``{old: new}`` and its old name
stays usable until API :data:`REMOVED_IN`:

* **input models** accept either name — ``_old_names = model_validator(mode="wrap")(
  accept_old_names(RENAMES))`` moves the old name's value to the new one (an error about it still names
  the old one). Both given with different
  values is refused (422, field code ``renamed_field_conflict``). The old name is declared on the model
  with :func:`old_input` so that OpenAPI lists it (``deprecated: true``, the new name and the removal
  version in its description) and ``extra="forbid"`` lets it in; it is never dumped.
* **response models** emit the old name beside the new one, with the same value —
  ``_old_names = model_serializer(mode="wrap")(emit_old_names(RENAMES))`` — declared with
  :func:`old_output`.
* **query parameters** are read with :func:`query_value` from both names, declared with
  :func:`old_query`.

Code never reads an old name's attribute (pydantic warns when a deprecated field is read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
)
from pydantic.functional_validators import ModelWrapValidatorHandler
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

#: the API version from which the old names are no longer accepted nor emitted
REMOVED_IN = "2.0.0"
CONFLICT_CODE = "renamed_field_conflict"

_Model = TypeVar("_Model", bound=BaseModel)


def _deprecation(new: str, description: str | None) -> str:
    note = (
        f"已弃用：请改用 {new}，API {REMOVED_IN} 起不再支持（deprecated: use {new}; removed in {REMOVED_IN}）"
    )
    return f"{description}。{note}" if description else note


def old_input(new: str, description: str | None = None) -> Any:
    """The field declaration of an input's old name: optional, deprecated, never dumped."""
    return Field(default=None, deprecated=True, exclude=True, description=_deprecation(new, description))


def old_output(new: str, description: str | None = None) -> Any:
    """The field declaration of a response's old name (filled by :func:`emit_old_names`)."""
    return Field(default=None, deprecated=True, description=_deprecation(new, description))


def old_query(new: str, description: str | None = None, **constraints: Any) -> Any:
    """The ``Query`` declaration of a query parameter's old name."""
    return Query(deprecated=True, description=_deprecation(new, description), **constraints)


def _conflict(old: str, new: str) -> PydanticCustomError:
    return PydanticCustomError(
        CONFLICT_CODE,
        "{old} 是 {new} 的旧名（已弃用），两者同时填写时须一致（{old} and {new} differ）",
        {"old": old, "new": new},
    )


def accept_old_names(
    renames: Mapping[str, str],
) -> Callable[[type[_Model], Any, ModelWrapValidatorHandler[_Model]], _Model]:
    """A wrap validator: each old name's value moves to its new name (old → new in ``renames``) before
    the model validates; an error about a moved value names the field as the client sent it."""

    def _accept(cls: type[_Model], data: Any, handler: ModelWrapValidatorHandler[_Model]) -> _Model:
        if not isinstance(data, Mapping) or not any(old in data for old in renames):
            return handler(data)
        moved = dict(data)
        sent_as: dict[str, str] = {}
        for old, new in renames.items():
            if old not in moved:
                continue
            value = moved.pop(old)
            if new in moved and moved[new] != value:
                raise _conflict(old, new)
            if new not in moved:
                sent_as[new] = old
            moved[new] = value
        try:
            return handler(moved)
        except ValidationError as exc:
            if not sent_as:
                raise
            raise ValidationError.from_exception_data(
                exc.title, [_as_sent(error, sent_as) for error in exc.errors()]
            ) from None

    return _accept


def _as_sent(error: ErrorDetails, sent_as: Mapping[str, str]) -> InitErrorDetails:
    loc = error["loc"]
    if loc and isinstance(loc[0], str):
        loc = (sent_as.get(loc[0], loc[0]), *loc[1:])
    return InitErrorDetails(
        type=PydanticCustomError(error["type"], error["msg"]), loc=loc, input=error["input"]
    )


def emit_old_names(
    renames: Mapping[str, str],
) -> Callable[[Any, SerializerFunctionWrapHandler], dict[str, Any]]:
    """A wrap serializer: the dumped model carries each old name with its new name's value."""

    def _emit(self: Any, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for old, new in renames.items():
            if new in data:
                data[old] = data[new]
        return data

    # pydantic documents a wrap serializer's output by its return annotation: without one, the model's
    # own schema (its fields, the old names among them) stays the documented shape
    del _emit.__annotations__["return"]
    return _emit


def current_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The model's fields under their current names (its deprecated old names left out)."""
    return tuple(name for name, info in model.model_fields.items() if not info.deprecated)


def with_new_names(data: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with each old key under its new name (for input already validated: no conflict left)."""
    return {renames.get(key, key): value for key, value in data.items()}


def query_value(new: str, value: Any, old: str, old_value: Any, *, required: bool = True) -> Any:
    """The value of a query parameter sent under its new or old name (422 when both differ, or when
    neither is sent and ``required``)."""
    if value is not None and old_value is not None and value != old_value:
        error = _conflict(old, new)
        raise RequestValidationError(
            [{"type": CONFLICT_CODE, "loc": ("query", old), "msg": error.message(), "input": old_value}]
        )
    chosen = value if value is not None else old_value
    if chosen is None and required:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("query", new), "msg": "Field required", "input": None}]
        )
    return chosen
