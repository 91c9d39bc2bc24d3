"""The platform's merged OpenAPI document, built as the gateway builds it — without starting anything.

Each app's document needs no database: the gateway and the three services are built (not started) with
throwaway settings, and their documents merged by the gateway's own ``merge``. The contract tests check
that the gateway serves exactly this document.
"""

from __future__ import annotations

import copy
import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from libs.common.settings import ServiceSettings
from services.gateway.app import create_app as create_gateway_app
from services.gateway.openapi.merge import HTTP_METHODS, merge
from services.gateway.proxy.router import SERVICES
from services.gateway.settings import GatewaySettings

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")


def _settings(settings_type: type[ServiceSettings], service: str) -> Any:
    return settings_type(  # nothing is opened: the URL only has to parse
        environment="test", database_url=f"sqlite+aiosqlite:///unused-{service}.db", log_json=False
    )


def service_app(service: str) -> FastAPI:
    """The service's real app, built by its ``create_app`` (not started)."""
    app_module = importlib.import_module(f"services.{service}.app")
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings_type = next(
        value
        for name, value in vars(settings_module).items()
        if name.endswith("Settings")
        and isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    )
    app: FastAPI = app_module.create_app(_settings(settings_type, service))
    return app


# Built once a process, handed out as copies: each document costs ~0.3-1.4 s of CPU (the merged one ~2.8 s)
# and the suite asked for the merged one three times and for the services' own eight more (CI's 30 minutes).
# The code they are built from does not change during a run; a caller may change its copy freely.


@cache
def _service_document(service: str) -> dict[str, Any]:
    return service_app(service).openapi()


def service_document(service: str) -> dict[str, Any]:
    """The service's own document, as its app's ``openapi()`` returns it (a copy of the one built)."""
    return copy.deepcopy(_service_document(service))


@cache
def _merged_document() -> dict[str, Any]:
    gateway = create_gateway_app(_settings(GatewaySettings, "gateway"))
    documents = {service: _service_document(service) for service in SERVICES}
    merged, _ = merge(gateway.openapi(), copy.deepcopy(documents), [])
    # the gateway serves it as JSON: compare and store the JSON form (tuples become lists, keys strings)
    loaded: dict[str, Any] = json.loads(json.dumps(merged))
    return loaded


def build() -> dict[str, Any]:
    """The merged document of the gateway and every service, as ``GET /openapi.json`` answers it (a copy
    of the one built)."""
    return copy.deepcopy(_merged_document())


def dumps(document: dict[str, Any]) -> str:
    """The snapshot's stable text: sorted keys, two-space indent, Chinese kept readable."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (METHOD, path, operation)."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                found[str(operation.get("operationId"))] = (method.upper(), path, operation)
    return found
