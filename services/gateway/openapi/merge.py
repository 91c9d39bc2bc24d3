"""One OpenAPI 3.1 document for the whole platform: the gateway's own paths plus each service's.

- Services' health endpoints are left out (they are per-process, not part of the public API).
- ``operationId`` must be unique: services prefix theirs with the service name; a collision that slips
  through is renamed ``<service>_<id>`` and reported (the tests fail on any).
- Components are merged per section: identical definitions are shared, a name that collides with a
  different definition is renamed ``<service>_<name>`` and every ``$ref`` of that service rewritten.
- Schemas that share a ``title`` (a renamed collision, pydantic's ``X-Input``/``X-Output`` pair) are
  titled with their component names: client generators name classes after titles, and two classes of
  one name would drop both.
- A service that cannot be reached is listed in ``x-missing-services``; the rest still answers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class MergeReport:
    renamed_operation_ids: list[tuple[str, str, str]] = field(default_factory=list)  # service, old, new
    renamed_components: list[tuple[str, str, str]] = field(default_factory=list)  # service, old ref, new ref
    path_conflicts: list[tuple[str, str]] = field(default_factory=list)  # service, path


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                renames.get(value, value)
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _free_name(existing: dict[str, Any], wanted: str) -> str:
    name, n = wanted, 2
    while name in existing:
        name, n = f"{wanted}_{n}", n + 1
    return name


def _merge_components(
    merged: dict[str, Any], service: str, doc: dict[str, Any], report: MergeReport
) -> dict[str, Any]:
    """Plan component renames for ``doc``, rewrite its refs, add its components; return the rewritten doc."""
    components: dict[str, dict[str, Any]] = doc.get("components") or {}
    target: dict[str, dict[str, Any]] = merged.setdefault("components", {})
    renames: dict[str, str] = {}
    for section, entries in components.items():
        existing = target.get(section, {})
        for name, value in entries.items():
            if name in existing and existing[name] != value:
                new_name = _free_name(existing, f"{service}_{name}")
                old_ref, new_ref = f"#/components/{section}/{name}", f"#/components/{section}/{new_name}"
                renames[old_ref] = new_ref
                report.renamed_components.append((service, old_ref, new_ref))
    doc = _rewrite_refs(doc, renames) if renames else doc
    for section, entries in (doc.get("components") or {}).items():
        existing = target.setdefault(section, {})
        for name, value in entries.items():
            ref = f"#/components/{section}/{name}"
            new_name = renames.get(ref, ref).rsplit("/", 1)[1]
            existing.setdefault(new_name, value)
    return doc


def _distinct_titles(schemas: dict[str, Any]) -> None:
    by_title: dict[str, list[str]] = {}
    for name, schema in schemas.items():
        if isinstance(schema, dict):
            by_title.setdefault(schema.get("title", name), []).append(name)
    for names in by_title.values():
        if len(names) > 1:
            for name in names:
                schemas[name]["title"] = name


def merge(
    gateway: dict[str, Any], services: dict[str, dict[str, Any]], missing: list[str]
) -> tuple[dict[str, Any], MergeReport]:
    report = MergeReport()
    merged = copy.deepcopy(gateway)
    merged["openapi"] = "3.1.0"
    merged.setdefault("paths", {})
    merged.setdefault("components", {})
    operation_ids = {
        op["operationId"]
        for item in merged["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS and "operationId" in op
    }
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}

    for service, original in services.items():
        doc = _merge_components(merged, service, copy.deepcopy(original), report)
        for path, item in (doc.get("paths") or {}).items():
            if path in HEALTH_PATHS:
                continue
            if path in merged["paths"]:
                report.path_conflicts.append((service, path))
                continue
            for method, operation in item.items():
                if method not in HTTP_METHODS or not isinstance(operation, dict):
                    continue
                op_id = operation.get("operationId") or f"{service}_{method}_{path}"
                if op_id in operation_ids:
                    new_id = _free_name(dict.fromkeys(operation_ids), f"{service}_{op_id}")
                    report.renamed_operation_ids.append((service, op_id, new_id))
                    op_id = new_id
                operation["operationId"] = op_id
                operation_ids.add(op_id)
                operation.setdefault("x-service", service)
            merged["paths"][path] = item
        for tag in doc.get("tags", []):
            tags.setdefault(tag["name"], tag)

    _distinct_titles(merged["components"].get("schemas", {}))
    if tags:
        merged["tags"] = list(tags.values())
    merged["x-missing-services"] = list(missing)
    merged["x-services"] = [*services.keys()]
    info = merged.setdefault("info", {})
    info["title"] = "福建省医养结合管理平台 API"
    description = (
        "网关合并的完整接口文档：网关自身（登录、令牌、用户、接口客户端）"
        "与 registry、contracts、homecare、indicators、residents 五个服务。"
        "所有路径均经网关 (端口 8000) 访问。"
    )
    if missing:
        description += f"\n\n**暂缺（服务不可达）：{', '.join(missing)}**"
    info["description"] = description
    return merged, report
