"""The rules every operation of the merged OpenAPI document follows (issue 7), as data and checks.

Run ``.venv/bin/python -m tests.openapi.rules`` to list the violations of each service.

- a unique, stable ``operationId`` named ``<service>_<verb>_<thing>``;
- at least one tag, and a summary;
- typed JSON bodies: no bare ``{}`` / ``{"type": "object"}`` schema anywhere in a request body; a
  response body typed at its top level, a free-form object inside it described;
- an example for every JSON request body;
- documented errors: at least one 4xx/5xx response, each ``application/problem+json`` only;
- enums carry their Chinese labels (``x-enum-labels`` covering every value, libs/common/openapi.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.openapi.document import build, operations

SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators", "residents")
PROBLEM = "application/problem+json"
#: operations that answer with no error of their own (public, static): nothing to document
NO_ERRORS = frozenset({"healthz", "gateway_get_jwks", "gateway_get_auth_enums"})
#: operations named before the convention, kept for clients already generated (do not add to this)
LEGACY_IDS = frozenset({"healthz", "readyz"})
_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


class Schemas:
    def __init__(self, document: dict[str, Any]) -> None:
        self.components: dict[str, Any] = document.get("components", {}).get("schemas", {})

    def resolve(self, node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        name = None
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            node = self.components[name]
        return name, node


def _bare(node: dict[str, Any]) -> bool:
    keys = {k for k in node if k not in ("title", "description", "default", "examples", "example")}
    if not keys:
        return True
    if node.get("type") == "object" and not node.get("properties"):
        extra = node.get("additionalProperties")
        return extra in (None, True, {})
    return False


def _walk_schema(
    schemas: Schemas, node: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(path, schema node, the property node holding it) for every node reachable from ``node``."""
    stack: list[tuple[str, dict[str, Any], dict[str, Any] | None, frozenset[str]]] = [
        (where, node, None, seen)
    ]
    while stack:
        path, current, holder, visited = stack.pop()
        if "$ref" in current:
            name = current["$ref"].rsplit("/", 1)[1]
            if name in visited:
                continue
            stack.append((f"{path}→{name}", schemas.components[name], holder, visited | {name}))
            continue
        yield path, current, holder
        for key, child in (current.get("properties") or {}).items():
            if isinstance(child, dict):
                stack.append((f"{path}.{key}", child, child, visited))
        for key in ("items", "additionalProperties"):
            child = current.get(key)
            if isinstance(child, dict):
                stack.append((f"{path}[]", child, holder, visited))
        for key in ("anyOf", "oneOf", "allOf"):
            for child in current.get(key) or []:
                stack.append((path, child, holder or current, visited))


def _has_example(schemas: Schemas, media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    return any(
        "examples" in node or "example" in node
        for _, node, _ in _walk_schema(schemas, media.get("schema", {}), "")
    )


def _enum_problems(schemas: Schemas, node: dict[str, Any], where: str) -> Iterator[str]:
    for path, current, holder in _walk_schema(schemas, node, where):
        if "enum" not in current or len(current["enum"]) < 2:
            continue
        labels = current.get("x-enum-labels") or (holder or {}).get("x-enum-labels") or {}
        missing = [v for v in current["enum"] if v is not None and str(v) not in labels]
        if missing:
            yield f"enum without Chinese labels at {path}: {missing}"


def check_operation(schemas: Schemas, service: str, op_id: str, operation: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if op_id not in LEGACY_IDS and not (_ID.match(op_id) and op_id.startswith(f"{service}_")):
        problems.append(f"operationId not named <service>_<action>: {op_id}")
    if not operation.get("tags"):
        problems.append("no tag")
    if not (operation.get("summary") or "").strip():
        problems.append("no summary")

    body = operation.get("requestBody")
    for media_type, media in ((body or {}).get("content") or {}).items():
        if "json" not in media_type:
            continue
        for path, node, _ in _walk_schema(schemas, media.get("schema", {}), "request"):
            if _bare(node):
                problems.append(f"untyped request body at {path}")
        if not _has_example(schemas, media):
            problems.append("request body without an example")
        problems += _enum_problems(schemas, media.get("schema", {}), "request")

    for parameter in operation.get("parameters") or []:
        problems += _enum_problems(schemas, parameter.get("schema", {}), f"parameter {parameter['name']}")

    responses: dict[str, Any] = operation.get("responses") or {}
    for status, response in responses.items():
        content: dict[str, Any] = response.get("content") or {}
        if status.startswith("2"):
            for media_type, media in content.items():
                if "json" not in media_type:
                    continue
                schema = media.get("schema", {})
                _, top = schemas.resolve(schema)
                if _bare(top) and not top.get("items"):
                    problems.append(f"untyped {status} response body")
                for path, node, holder in _walk_schema(schemas, schema, f"response {status}"):
                    described = node.get("description") or (holder or {}).get("description")
                    if _bare(node) and not described and node is not top:
                        problems.append(f"undescribed free-form object at {path}")
                problems += _enum_problems(schemas, schema, f"response {status}")
        elif status[:1] in ("4", "5") and set(content) != {PROBLEM}:
            problems.append(f"{status} not documented as problem+json only: {sorted(content)}")
    if op_id not in NO_ERRORS and not any(s[:1] in ("4", "5") for s in responses):
        problems.append("no error response documented")
    return sorted(set(problems))


def violations(document: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """service → operationId → what it breaks (only operations with violations)."""
    schemas = Schemas(document)
    found: dict[str, dict[str, list[str]]] = {service: {} for service in SERVICES}
    for op_id, (_method, _path, operation) in operations(document).items():
        service = operation.get("x-service", "gateway")
        problems = check_operation(schemas, service, op_id, operation)
        if problems:
            found[service][op_id] = problems
    return found


def main() -> None:
    document = build()
    for service, by_operation in violations(document).items():
        print(f"{service}: {len(by_operation)} operation(s) with violations")
        for op_id, problems in sorted(by_operation.items()):
            method, path, _ = operations(document)[op_id]
            print(f"  {op_id}  ({method} {path})")
            for problem in problems:
                print(f"    - {problem}")


if __name__ == "__main__":
    main()
