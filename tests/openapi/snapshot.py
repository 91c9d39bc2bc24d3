"""The committed snapshot of the merged OpenAPI document (tests/openapi/openapi_snapshot.json).

    .venv/bin/python -m tests.openapi.snapshot            # compare: print what changed, exit 1 if anything
    .venv/bin/python -m tests.openapi.snapshot --update   # write the current document as the snapshot

The snapshot is the reviewable record of the API: a change to any route, schema, example or label shows
in the diff of this file in review. It holds nothing that varies between runs (no time, port, host or
random id): keys sorted, two-space indent.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tests.openapi.document import SNAPSHOT, build, dumps, operations

MAX_LINES = 60


def load() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return loaded


def _changed_parts(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    parts = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    responses_old, responses_new = old.get("responses", {}), new.get("responses", {})
    details = []
    for part in parts:
        if part == "responses":
            added = sorted(responses_new.keys() - responses_old.keys())
            removed = sorted(responses_old.keys() - responses_new.keys())
            changed = sorted(
                code
                for code in responses_old.keys() & responses_new.keys()
                if responses_old[code] != responses_new[code]
            )
            bits = [f"+{c}" for c in added] + [f"-{c}" for c in removed] + [f"~{c}" for c in changed]
            details.append(f"responses({', '.join(bits)})")
        elif part == "parameters":
            names_old = {p.get("name") for p in old.get("parameters", [])}
            names_new = {p.get("name") for p in new.get("parameters", [])}
            bits = [f"+{n}" for n in sorted(names_new - names_old)] + [
                f"-{n}" for n in sorted(names_old - names_new)
            ]
            details.append(f"parameters({', '.join(bits) or 'changed'})")
        else:
            details.append(part)
    return details


def _schema_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    props_old, props_new = old.get("properties", {}), new.get("properties", {})
    bits = [f"+{p}" for p in sorted(props_new.keys() - props_old.keys())]
    bits += [f"-{p}" for p in sorted(props_old.keys() - props_new.keys())]
    bits += [f"~{p}" for p in sorted(props_old.keys() & props_new.keys()) if props_old[p] != props_new[p]]
    if old.get("required") != new.get("required"):
        bits.append(f"required {old.get('required')} → {new.get('required')}")
    if old.get("enum") != new.get("enum"):
        bits.append(f"enum {old.get('enum')} → {new.get('enum')}")
    others = sorted(
        key
        for key in old.keys() | new.keys()
        if key not in ("properties", "required", "enum") and old.get(key) != new.get(key)
    )
    bits += others
    return ", ".join(bits)


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed from ``old`` to ``new``, one readable line per operation or schema."""
    lines: list[str] = []
    ops_old, ops_new = operations(old), operations(new)
    for op_id in sorted(ops_new.keys() - ops_old.keys()):
        method, path, _ = ops_new[op_id]
        lines.append(f"+ operation {op_id} ({method} {path})")
    for op_id in sorted(ops_old.keys() - ops_new.keys()):
        method, path, _ = ops_old[op_id]
        lines.append(f"- operation {op_id} ({method} {path})   ← removed: breaking for generated clients")
    for op_id in sorted(ops_old.keys() & ops_new.keys()):
        (m_old, p_old, o_old), (m_new, p_new, o_new) = ops_old[op_id], ops_new[op_id]
        if (m_old, p_old) != (m_new, p_new):
            lines.append(f"~ operation {op_id} moved: {m_old} {p_old} → {m_new} {p_new}")
        if o_old != o_new:
            lines.append(f"~ operation {op_id}: {', '.join(_changed_parts(o_old, o_new))}")
    schemas_old = old.get("components", {}).get("schemas", {})
    schemas_new = new.get("components", {}).get("schemas", {})
    for name in sorted(schemas_new.keys() - schemas_old.keys()):
        lines.append(f"+ schema {name}")
    for name in sorted(schemas_old.keys() - schemas_new.keys()):
        lines.append(f"- schema {name}")
    for name in sorted(schemas_old.keys() & schemas_new.keys()):
        if schemas_old[name] != schemas_new[name]:
            lines.append(f"~ schema {name}: {_schema_change(schemas_old[name], schemas_new[name])}")
    for key in sorted((old.keys() | new.keys()) - {"paths", "components"}):
        if old.get(key) != new.get(key):
            lines.append(f"~ {key}")
    for section in sorted(
        (old.get("components", {}).keys() | new.get("components", {}).keys()) - {"schemas"}
    ):
        if old.get("components", {}).get(section) != new.get("components", {}).get(section):
            lines.append(f"~ components.{section}")
    return lines


def report(lines: list[str]) -> str:
    shown = lines[:MAX_LINES]
    more = f"\n… and {len(lines) - MAX_LINES} more" if len(lines) > MAX_LINES else ""
    return "\n".join(shown) + more


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--update", action="store_true", help="write the current document as the snapshot")
    args = parser.parse_args()
    document = build()
    if args.update:
        SNAPSHOT.write_text(dumps(document), encoding="utf-8")
        print(f"wrote {SNAPSHOT} ({len(operations(document))} operations)")
        return
    lines = differences(load(), document) if SNAPSHOT.exists() else ["no snapshot yet"]
    if lines:
        print(report(lines))
        sys.exit(1)
    print("the merged OpenAPI document equals the snapshot")


if __name__ == "__main__":
    main()
