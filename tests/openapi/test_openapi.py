"""The OpenAPI contract of the platform (issue 7): the gateway's merged document is valid OpenAPI 3.1,
every operation follows the rules of tests/openapi/rules.py, and the document equals the committed
snapshot (refresh it with ``.venv/bin/python -m tests.openapi.snapshot --update``)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openapi_python_client.schema.openapi_schema_pydantic import OpenAPI
from openapi_spec_validator import validate

from libs.common.auth import TokenIssuer
from libs.common.testing import TestDatabases, backend, make_settings, rolled_back_client, running
from services.gateway.app import create_app as create_gateway_app
from services.gateway.openapi.merge import merge
from services.gateway.proxy.router import SERVICES
from services.gateway.settings import GatewaySettings
from tests.openapi import rules, snapshot
from tests.openapi.document import build, operations, service_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build()


@pytest.fixture(scope="module")
async def gateway(test_databases: TestDatabases, token_issuer: TokenIssuer) -> AsyncIterator[FastAPI]:
    """The real gateway, started, with the three real service apps mounted in-process (not started:
    serving their documents needs no database)."""
    urls = {service: f"http://{service}.test" for service in SERVICES}
    overrides: dict[str, Any] = {f"{service}_url": url for service, url in urls.items()}
    if test_databases.postgres_url is None:
        overrides["database_url"] = f"sqlite+aiosqlite:///{test_databases.root / 'contract_gateway.db'}"
    else:
        overrides["database_schema"] = "contract_gateway"
    app = create_gateway_app(
        make_settings(GatewaySettings, test_databases, **overrides),
        issuer=token_issuer,
        upstream_mounts={url: httpx.ASGITransport(app=service_app(s)) for s, url in urls.items()},
    )
    async with running(app):
        yield app


async def test_the_gateway_serves_the_document_the_contract_tests_check(
    gateway: FastAPI, document: dict[str, Any]
) -> None:
    async with rolled_back_client(gateway) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["x-missing-services"] == []
    assert served == document


@pytest.mark.skipif(
    backend() == "postgresql",
    reason="the document does not depend on the database; its full validation (~10 s) runs with SQLite",
)
def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # openapi-spec-validator: the 3.1 schema and the semantic rules (refs, params, ids)


def test_the_document_parses_as_openapi_for_the_client_generator(document: dict[str, Any]) -> None:
    OpenAPI.model_validate(document)


def test_operation_ids_are_present_and_unique(document: dict[str, Any]) -> None:
    ids = [
        operation.get("operationId")
        for item in document["paths"].values()
        for method, operation in item.items()
        if isinstance(operation, dict) and method in ("get", "put", "post", "delete", "patch", "head")
    ]
    assert None not in ids
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert len(ids) == len(operations(document))


@pytest.mark.parametrize("service", rules.SERVICES)
def test_every_operation_of_the_service_follows_the_contract(service: str, document: dict[str, Any]) -> None:
    found = rules.violations(document)[service]
    listing = "\n".join(f"{op_id}: {'; '.join(problems)}" for op_id, problems in sorted(found.items()))
    assert not found, f"{len(found)} operation(s) of {service} break the contract:\n{listing}"


def test_every_service_is_in_the_document(document: dict[str, Any]) -> None:
    services = {operation.get("x-service", "gateway") for _, _, operation in operations(document).values()}
    assert services == {"gateway", *SERVICES}


def test_enum_schemas_carry_chinese_labels_for_every_value(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    unlabelled = {
        name: schema["enum"]
        for name, schema in schemas.items()
        if "enum" in schema and set(map(str, schema["enum"])) - set(schema.get("x-enum-labels", {}))
    }
    assert unlabelled == {}
    assert schemas["AgreementState"]["x-enum-labels"]["active"] == "生效中"
    assert schemas["Role"]["x-enum-labels"]["city_platform"] == "城市平台接口"


def test_the_document_equals_the_committed_snapshot(document: dict[str, Any]) -> None:
    lines = snapshot.differences(snapshot.load(), document)
    assert not lines, (
        "The API changed but tests/openapi/openapi_snapshot.json was not updated. If the change is "
        "intended, run `.venv/bin/python -m tests.openapi.snapshot --update` and commit the snapshot "
        "(reviewers read its diff):\n" + snapshot.report(lines)
    )


def test_the_snapshot_diff_names_what_changed(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    institutions = changed["paths"]["/api/v1/registry/institutions"]
    del institutions["post"]
    institutions["get"]["parameters"].append({"name": "colour", "in": "query", "schema": {"type": "string"}})
    changed["components"]["schemas"]["InstitutionRead"]["properties"]["colour"] = {"type": "string"}
    lines = snapshot.differences(document, changed)
    assert lines == [
        "- operation registry_create_institution (POST /api/v1/registry/institutions)"
        "   ← removed: breaking for generated clients",
        "~ operation registry_list_institutions: parameters(+colour)",
        "~ schema InstitutionRead: +colour",
    ]


def test_schemas_sharing_a_title_are_titled_by_their_component_names() -> None:
    """Client generators name classes after titles: two ``BulkRecordResult`` would drop both."""

    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": schema},
        }

    merged, _ = merge(
        doc(
            {
                "Result": {"title": "Result", "type": "string"},
                "Page_X_": {"title": "Page[X]", "type": "string"},
            }
        ),
        {
            "contracts": doc({"Result": {"title": "Result", "type": "integer"}}),
            "homecare": doc(
                {"Vital-Input": {"title": "Vital"}, "Vital-Output": {"title": "Vital", "type": "object"}}
            ),
        },
        [],
    )
    titles = {name: schema["title"] for name, schema in merged["components"]["schemas"].items()}
    assert titles == {
        "Result": "Result",
        "contracts_Result": "contracts_Result",
        "Page_X_": "Page[X]",
        "Vital-Input": "Vital-Input",
        "Vital-Output": "Vital-Output",
    }
