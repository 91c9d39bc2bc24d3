"""The refined OpenAPI document of every service (libs/common/openapi.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Response
from pydantic import BaseModel, Field

from libs.common.auth import Role
from libs.common.errors import problem_responses
from libs.common.openapi import LABELS_KEY, DocumentedAs, enum_labels, labels_of, refine
from libs.common.routing import ServiceRouter


class Colour(StrEnum):
    red = "red"
    green = "green"


COLOUR_LABELS = {Colour.red: "红", Colour.green: "绿"}


class Shape(StrEnum):
    square = "square"


class Record(BaseModel):
    name: str
    colour: Colour


class Batch(BaseModel):
    records: list[Annotated[dict[str, Any], DocumentedAs(Record)]]
    mode: Literal["all", "partial"] = Field(
        default="all", json_schema_extra=enum_labels({"all": "全部", "partial": "部分"})
    )


def _document() -> dict[str, Any]:
    router = ServiceRouter(prefix="/api/v1/sample")

    @router.post("/batch", operation_id="sample_batch", responses=problem_responses(403))
    async def batch(data: Batch, shape: Shape | None = None) -> Record:
        raise NotImplementedError

    @router.get(
        "/export",
        operation_id="sample_export",
        response_class=Response,
        responses={200: {"description": "文件", "content": {"application/pdf": {}, "text/csv": {}}}},
    )
    async def export() -> Response:
        raise NotImplementedError

    @router.get("/things", operation_id="sample_things")
    async def things(
        group_by: Annotated[
            Literal["city", "county"], Query(json_schema_extra=enum_labels({"city": "市", "county": "县"}))
        ] = "city",
    ) -> list[Record]:
        raise NotImplementedError

    app = FastAPI()
    app.include_router(router)
    return refine(app.openapi(), preferred_modules=("tests.common.",))


def test_validation_failures_are_documented_as_problems_and_the_fastapi_schemas_dropped() -> None:
    document = _document()
    responses = document["paths"]["/api/v1/sample/batch"]["post"]["responses"]
    assert responses["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert set(responses["403"]["content"]) == {"application/problem+json"}
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert {"Problem", "FieldError"} <= set(schemas)


def test_enums_get_their_labels_from_the_labels_dict_or_the_members_label() -> None:
    schemas = _document()["components"]["schemas"]
    assert schemas["Colour"][LABELS_KEY] == {"red": "红", "green": "绿"}
    assert "`red` 红" in schemas["Colour"]["description"]
    assert LABELS_KEY not in schemas["Shape"]  # no labels next to it: the contract test names it
    assert (labels_of(Role) or {}).get("city_platform") == "城市平台接口"


def test_inline_enums_keep_the_labels_they_declare_and_show_them_in_the_description() -> None:
    document = _document()
    mode = document["components"]["schemas"]["Batch"]["properties"]["mode"]
    assert mode[LABELS_KEY] == {"all": "全部", "partial": "部分"}
    [parameter] = document["paths"]["/api/v1/sample/things"]["get"]["parameters"]
    assert parameter["schema"][LABELS_KEY] == {"city": "市", "county": "县"}
    assert "`county` 县" in parameter["schema"]["description"]


def test_a_record_checked_one_by_one_is_documented_as_its_model() -> None:
    document = _document()
    records = document["components"]["schemas"]["Batch"]["properties"]["records"]
    assert records["items"] == {"$ref": "#/components/schemas/Record"}
    assert "Record" in document["components"]["schemas"]
    # while the request itself still takes any object per record (the service rejects bad ones alone)
    assert Batch.model_validate({"records": [{"x": 1}]}).records == [{"x": 1}]


def test_refining_twice_changes_nothing() -> None:
    document = _document()
    assert refine(document) == _document()


def test_file_answers_are_typed_as_bytes_or_text() -> None:
    content = _document()["paths"]["/api/v1/sample/export"]["get"]["responses"]["200"]["content"]
    assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert content["text/csv"]["schema"] == {"type": "string"}


def test_operations_with_a_body_declare_the_400_of_a_body_that_cannot_be_parsed() -> None:
    # a body that is not UTF-8 is refused before validation with 400 (problem+json): the document says so
    document = _document()
    responses = document["paths"]["/api/v1/sample/batch"]["post"]["responses"]
    assert responses["400"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "400" not in document["paths"]["/api/v1/sample/things"]["get"]["responses"]
