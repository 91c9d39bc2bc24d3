"""The request examples of homecare's OpenAPI description validate against their own models: a client
that copies one from ``/docs`` sends a body the service accepts (not only its JSON schema: the model's
validators too — ID-card checksums, county codes, time windows)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import types
from typing import Any, Union, get_args, get_origin

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

import services.homecare
from libs.common.openapi import DocumentedAs
from services.homecare.app import create_app
from services.homecare.settings import HomecareSettings


def _routes() -> list[APIRoute]:
    """Every ``router`` module of the service, nested ones included (``orders/visits/router.py``)."""
    routes: list[APIRoute] = []
    for module in pkgutil.walk_packages(services.homecare.__path__, "services.homecare."):
        if module.name.rsplit(".", 1)[-1] == "router":
            router = importlib.import_module(module.name).router
            routes += [route for route in router.routes if isinstance(route, APIRoute)]
    return routes


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model of a body parameter (``Model`` or ``Model | None``), None for a form field or a file."""
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for m in map(_model_of, get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _bodies() -> dict[str, type[BaseModel]]:
    """operationId → the model of its JSON request body."""
    bodies: dict[str, type[BaseModel]] = {}
    for route in _routes():
        for param in route.dependant.body_params:
            model = _model_of(param.field_info.annotation)
            if model is not None and route.operation_id is not None:
                bodies[route.operation_id] = model
    return bodies


BODIES = _bodies()
REQUEST_MODELS = sorted(set(BODIES.values()), key=lambda model: model.__name__)


def _documented_records(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """field → the model a ``list[Annotated[dict, DocumentedAs(Record)]]`` field's items are documented as."""
    found: dict[str, type[BaseModel]] = {}
    for name, field in model.model_fields.items():
        for item in get_args(field.annotation):
            documented = [m.model for m in getattr(item, "__metadata__", ()) if isinstance(m, DocumentedAs)]
            if documented:
                found[name] = documented[0]
    return found


def _examples(model: type[BaseModel]) -> list[Any]:
    examples: list[Any] = model.model_json_schema().get("examples", [])
    return examples


def test_every_operation_with_a_json_body_is_found() -> None:
    settings = HomecareSettings(
        environment="test", database_url="sqlite+aiosqlite:///unused-homecare.db", log_json=False
    )
    document = create_app(settings).openapi()
    with_json_body = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        and "application/json" in (operation.get("requestBody") or {}).get("content", {})
    }
    assert with_json_body == set(BODIES)


def _configured_examples(model: type[BaseModel]) -> Any:
    extra = model.model_config.get("json_schema_extra")
    return extra.get("examples") if isinstance(extra, dict) else None


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
def test_the_request_body_has_an_example_of_its_own(model: type[BaseModel]) -> None:
    """Not its base class's (model_config is inherited: a subclass would show a body lacking its fields)."""
    bases = [base for base in model.__mro__[1:] if issubclass(base, BaseModel)]
    assert _configured_examples(model), f"{model.__name__} has no example"
    assert all(_configured_examples(model) is not _configured_examples(base) for base in bases)


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
def test_the_examples_of_the_request_body_validate(model: type[BaseModel]) -> None:
    for example in _examples(model):
        model.model_validate(example)
        model.model_validate_json(json.dumps(example))  # as it arrives over the wire


@pytest.mark.parametrize(
    "model",
    [model for model in REQUEST_MODELS if _documented_records(model)],
    ids=lambda model: model.__name__,
)
def test_the_records_of_a_bulk_example_validate_as_the_documented_record(model: type[BaseModel]) -> None:
    for field, record_model in _documented_records(model).items():
        for record_example in _examples(record_model):
            record_model.model_validate_json(json.dumps(record_example))
        for example in _examples(model):
            assert example[field]
            for record in example[field]:
                record_model.model_validate(record)
                record_model.model_validate_json(json.dumps(record))
