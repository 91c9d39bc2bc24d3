"""The merged OpenAPI document: the gateway's own paths and every service's, unique operationIds,
components merged without clashes; a missing service is named, not fatal."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openapi_python_client.schema.openapi_schema_pydantic import OpenAPI

from libs.common.auth import TokenIssuer, TokenVerifier
from libs.common.settings import ServiceSettings
from libs.common.testing import TestDatabases, make_settings, rolled_back_client, running
from services.gateway.app import create_app
from services.gateway.openapi.merge import HTTP_METHODS, merge
from services.gateway.proxy.router import SERVICES
from tests.gateway.conftest import REGISTRY_URL, gateway_settings


def _build_service_app(
    service: str, test_databases: TestDatabases, token_verifier: TokenVerifier
) -> FastAPI | None:
    """The service's real app (not started: serving /openapi.json needs no database), or None while the
    service has no app module yet (the services are built in parallel)."""
    try:
        app_module = importlib.import_module(f"services.{service}.app")
    except ModuleNotFoundError as exc:
        if exc.name != f"services.{service}.app":
            raise
        return None
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_type = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings")
        and isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    )
    app: FastAPI = app_module.create_app(
        make_settings(settings_type, test_databases), verifier=token_verifier
    )
    return app


@pytest.fixture(scope="module")
def service_apps(
    test_databases: TestDatabases, token_verifier: TokenVerifier, registry_app: FastAPI
) -> dict[str, FastAPI]:
    apps = {"registry": registry_app}
    for service in ("contracts", "homecare", "indicators", "residents"):
        app = _build_service_app(service, test_databases, token_verifier)
        if app is not None:
            apps[service] = app
    return apps


@pytest.fixture(scope="module")
async def platform_gateway(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    service_apps: dict[str, FastAPI],
    closed_port_url: str,
) -> AsyncIterator[FastAPI]:
    urls = {
        f"{service}_url": f"http://{service}.test" if service in service_apps else closed_port_url
        for service in SERVICES
    }
    app = create_app(
        gateway_settings(test_databases, **urls),
        issuer=token_issuer,
        upstream_mounts={
            f"http://{name}.test": httpx.ASGITransport(app=app, raise_app_exceptions=False)
            for name, app in service_apps.items()
        },
    )
    async with running(app):
        yield app


@pytest.mark.parametrize("service", SERVICES)
def test_each_services_document_merges_with_the_gateways_without_collision(
    service: str, platform_gateway: FastAPI, service_apps: dict[str, FastAPI]
) -> None:
    # every service exists: a missing app is a failure, never a skip
    assert service in service_apps, f"services.{service}.app could not be built"
    _, report = merge(platform_gateway.openapi(), {service: service_apps[service].openapi()}, [])
    assert report.renamed_operation_ids == [], "an operationId is used twice"
    assert report.path_conflicts == []


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


async def test_the_real_services_merge_without_any_collision(
    platform_gateway: FastAPI, service_apps: dict[str, FastAPI]
) -> None:
    documents = {name: app.openapi() for name, app in service_apps.items()}
    _, report = merge(platform_gateway.openapi(), documents, [])
    assert report.renamed_operation_ids == [], "two services use the same operationId"
    assert report.path_conflicts == [], "two services serve the same path"


async def test_the_merged_document_covers_the_gateway_and_every_service(
    platform_gateway: FastAPI, service_apps: dict[str, FastAPI]
) -> None:
    async with rolled_back_client(platform_gateway) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    OpenAPI.model_validate(document)  # a structurally valid OpenAPI document
    assert document["openapi"] == "3.1.0"
    assert document["x-missing-services"] == [s for s in SERVICES if s not in service_apps]
    paths = document["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/auth/users" in paths
    assert "/api/v1/registry/institutions" in paths
    for service in service_apps:
        assert any(p.startswith(f"/api/v1/{service}/") for p in paths), service
    assert not any(p.startswith("/api/v1/registry/{") for p in paths)  # the proxy routes are not documented

    ids = [operation.get("operationId") for _, _, operation in operations(document)]
    assert None not in ids
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    services = {
        op.get("x-service") for path, _, op in operations(document) if path.startswith("/api/v1/registry/")
    }
    assert services == {"registry"}

    for ref in set(refs(document)):
        section, name = ref.removeprefix("#/components/").split("/", 1)
        assert name in document["components"][section], f"dangling {ref}"


async def test_service_health_endpoints_are_left_out(platform_gateway: FastAPI) -> None:
    async with rolled_back_client(platform_gateway) as client:
        document = (await client.get("/openapi.json")).json()
    health = {op["operationId"] for path, _, op in operations(document) if path in {"/healthz", "/readyz"}}
    assert all(
        op.get("x-service") is None for path, _, op in operations(document) if path in {"/healthz", "/readyz"}
    )
    assert health <= {"healthz", "readyz"}  # only the gateway's own


async def test_with_a_service_down_the_document_names_it_and_keeps_the_rest(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI, closed_port_url: str
) -> None:
    app = create_app(
        gateway_settings(
            test_databases,
            contracts_url=closed_port_url,
            homecare_url=closed_port_url,
            indicators_url=closed_port_url,
            residents_url=closed_port_url,
        ),
        issuer=token_issuer,
        upstream_mounts={REGISTRY_URL: httpx.ASGITransport(app=registry_app)},
    )
    async with running(app), rolled_back_client(app) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["x-missing-services"] == ["contracts", "homecare", "indicators", "residents"]
    assert "/api/v1/registry/institutions" in document["paths"]
    assert "/api/v1/auth/token" in document["paths"]
    assert "contracts" in document["info"]["description"]


async def test_docs_render_the_merged_document(platform_gateway: FastAPI) -> None:
    async with rolled_back_client(platform_gateway) as client:
        response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text
    assert "/openapi.json" in response.text


def _doc(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _op(op_id: str, schema: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                }
            },
        }
    }


def test_colliding_schemas_are_renamed_and_identical_ones_shared() -> None:
    problem = {"type": "object", "properties": {"code": {"type": "string"}}}
    gateway = _doc(
        {"/api/v1/auth/x": _op("gateway_x", "Item")}, {"Item": {"type": "string"}, "Problem": problem}
    )
    registry = _doc(
        {"/api/v1/registry/y": _op("registry_y", "Item")}, {"Item": {"type": "integer"}, "Problem": problem}
    )
    merged, report = merge(gateway, {"registry": registry}, [])
    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["registry_Item"] == {"type": "integer"}
    assert set(schemas) == {"Item", "registry_Item", "Problem"}
    ref = merged["paths"]["/api/v1/registry/y"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert ref == {"$ref": "#/components/schemas/registry_Item"}
    assert report.renamed_components == [
        ("registry", "#/components/schemas/Item", "#/components/schemas/registry_Item")
    ]


def test_colliding_operation_ids_are_renamed_and_reported() -> None:
    gateway = _doc({"/a": _op("list", "A")}, {"A": {"type": "string"}})
    contracts = _doc({"/b": _op("list", "A")}, {"A": {"type": "string"}})
    merged, report = merge(gateway, {"contracts": contracts}, [])
    assert merged["paths"]["/b"]["get"]["operationId"] == "contracts_list"
    assert report.renamed_operation_ids == [("contracts", "list", "contracts_list")]


def test_health_paths_of_services_are_dropped_and_missing_services_listed() -> None:
    gateway = _doc({"/healthz": _op("healthz", "A")}, {"A": {"type": "string"}})
    homecare = _doc(
        {"/healthz": _op("healthz", "A"), "/readyz": _op("readyz", "A")}, {"A": {"type": "string"}}
    )
    merged, report = merge(gateway, {"homecare": homecare}, ["registry"])
    assert merged["paths"]["/healthz"]["get"]["operationId"] == "healthz"
    assert "/readyz" not in merged["paths"]
    assert report.path_conflicts == []
    assert merged["x-missing-services"] == ["registry"]
