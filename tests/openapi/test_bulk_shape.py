"""Every bulk route speaks the one bulk protocol of libs/common/bulk.py (issue 12).

For each ``POST …/bulk`` of every service's own document and of the gateway's merged document: the
request is the envelope ``{source_system, records}`` (nothing else; ``source_system`` with the protocol's
pattern; ``records`` a non-empty array of objects), the 200 answer is ``BulkResponse`` (compared
structurally with the model itself: property names, types, required fields, the outcome enum), and a
refused batch is a 422 problem. A new bulk route is covered by being found, not by being listed.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic.json_schema import models_json_schema

from libs.common.bulk import SOURCE_SYSTEM_PATTERN, BulkOutcome, BulkResponse
from libs.common.errors import PROBLEM_MEDIA_TYPE
from services.gateway.proxy.router import SERVICES
from tests.openapi.document import build, operations, service_document

#: the bulk routes the platform has today: the test fails if one disappears or stops being found
KNOWN = {
    "/api/v1/registry/institutions/bulk",
    "/api/v1/registry/institutions/year-stats/bulk",
    "/api/v1/registry/filings/bulk",
    "/api/v1/registry/practitioners/bulk",
    "/api/v1/contracts/agreements/bulk",
    "/api/v1/contracts/visits/bulk",
    "/api/v1/contracts/referrals/bulk",
    "/api/v1/homecare/recipients/bulk",
    "/api/v1/homecare/orders/bulk",
    "/api/v1/homecare/orders/history/bulk",
    "/api/v1/homecare/home-beds/bulk",
    "/api/v1/homecare/providers/bulk",
    "/api/v1/residents/persons/bulk",
    "/api/v1/residents/checkups/bulk",
    "/api/v1/residents/assessments/bulk",
    "/api/v1/residents/signings/bulk",
}
#: keys that describe rather than shape (documentation, examples, enum labels)
DESCRIPTIVE = {"title", "description", "examples", "example", "x-enum-labels", "x-labels", "default"}


def _resolve(node: Any, document: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` inlined and descriptive keys dropped."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return {"$recursive": name}
            return _resolve(document["components"]["schemas"][name], document, (*seen, name))
        return {k: _resolve(v, document, seen) for k, v in node.items() if k not in DESCRIPTIVE}
    if isinstance(node, list):
        return [_resolve(item, document, seen) for item in node]
    return node


def _expected_response() -> Any:
    _, definitions = models_json_schema(
        [(BulkResponse, "serialization")], ref_template="#/components/schemas/{model}"
    )
    document = {"components": {"schemas": definitions["$defs"]}}
    return _resolve({"$ref": "#/components/schemas/BulkResponse"}, document)


def _documents() -> dict[str, dict[str, Any]]:
    documents = {service: service_document(service) for service in SERVICES}
    documents["gateway (merged)"] = build()
    return documents


DOCUMENTS = _documents()


def _bulk_operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, operation)
        for method, path, operation in operations(document).values()
        if path.endswith("/bulk") and method == "POST"
    ]


def test_every_known_bulk_route_is_found() -> None:
    found = {path for path, _ in _bulk_operations(DOCUMENTS["gateway (merged)"])}
    assert found == KNOWN


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_bulk_route_answers_the_one_bulk_response(name: str) -> None:
    document = DOCUMENTS[name]
    expected = _expected_response()
    for path, operation in _bulk_operations(document):
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert _resolve(answer, document) == expected, f"{name}: {path}"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_bulk_route_takes_the_one_envelope(name: str) -> None:
    document = DOCUMENTS[name]
    for path, operation in _bulk_operations(document):
        body = _resolve(operation["requestBody"]["content"]["application/json"]["schema"], document)
        assert set(body["properties"]) == {"source_system", "records"}, path
        assert set(body["required"]) == {"source_system", "records"}, path
        assert body.get("additionalProperties") is False, path
        assert body["properties"]["source_system"]["pattern"] == SOURCE_SYSTEM_PATTERN, path
        records = body["properties"]["records"]
        assert records["type"] == "array", path
        assert records["minItems"] == 1, path
        assert records["items"]["type"] == "object", path
        assert "external_id" in records["items"]["properties"], path
        assert "external_id" in records["items"]["required"], path


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_a_refused_batch_is_a_422_problem(name: str) -> None:
    document = DOCUMENTS[name]
    for path, operation in _bulk_operations(document):
        refused = operation["responses"].get("422")
        assert refused is not None, path
        assert PROBLEM_MEDIA_TYPE in refused["content"], path


def test_the_outcomes_are_the_protocols() -> None:
    outcome = _expected_response()["properties"]["results"]["items"]["properties"]["outcome"]
    assert outcome["enum"] == [o.value for o in BulkOutcome]
