"""One vocabulary across the public API (issue 12): a renamed public name keeps working for one version.

Read from the merged document the gateway serves:

* every name marked ``deprecated`` (schema property or query parameter) says, in its description, which
  name replaces it and the API version that removes it; the replacement is there, beside it, and is not
  deprecated itself;
* the renames of issue 12 are all present as such (old deprecated, new current);
* the old spellings are nowhere a current name: a new ``lat`` or ``id_card`` cannot creep back in.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from libs.common.renamed_fields import REMOVED_IN
from tests.openapi.document import build, operations

#: the renames of issue 12, old → new, and where they are (schema names)
RENAMES = {
    ("lat", "latitude"): [
        "InstitutionCreate",
        "InstitutionUpdate",
        "InstitutionBulkRecord",
        "InstitutionRead",
    ],
    ("lng", "longitude"): [
        "InstitutionCreate",
        "InstitutionUpdate",
        "InstitutionBulkRecord",
        "InstitutionRead",
    ],
    ("id_card", "id_number"): [
        "PractitionerCreate",
        "PractitionerUpdate",
        "PractitionerLookup",
        "PractitionerRead",
    ],
    ("closed_reason", "close_reason"): ["ApplicationRead"],
}
OLD_SPELLINGS = {old for old, _new in RENAMES}
_REPLACEMENT = re.compile(r"请改用 (\w+)")


@cache
def _document() -> dict[str, Any]:
    return build()


def _named_things() -> list[tuple[str, dict[str, Any], dict[str, dict[str, Any]]]]:
    """(where, the named thing, its siblings by name) for every schema property and parameter."""
    found = []
    for schema_name, schema in _document()["components"]["schemas"].items():
        properties = schema.get("properties", {})
        for name, prop in properties.items():
            found.append((f"{schema_name}.{name}", {"name": name, **prop}, properties))
    for op_id, (_method, _path, operation) in operations(_document()).items():
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        for name, parameter in parameters.items():
            found.append((f"{op_id}?{name}", parameter, parameters))
    return found


def test_every_deprecated_name_names_its_replacement_and_the_removal_version() -> None:
    deprecated = [
        (where, thing, siblings) for where, thing, siblings in _named_things() if thing.get("deprecated")
    ]
    assert deprecated
    for where, thing, siblings in deprecated:
        description = thing.get("description", "")
        assert REMOVED_IN in description, where
        replacement = _REPLACEMENT.search(description)
        assert replacement, f"{where}: the description does not name the replacement"
        new = replacement.group(1)
        assert new in siblings, f"{where}: its replacement {new} is not beside it"
        assert not siblings[new].get("deprecated"), f"{where}: its replacement {new} is deprecated too"


@pytest.mark.parametrize(("names", "schemas"), list(RENAMES.items()), ids=[f"{o}->{n}" for o, n in RENAMES])
def test_the_renames_of_issue_12_are_deprecated_beside_their_new_name(
    names: tuple[str, str], schemas: list[str]
) -> None:
    old, new = names
    for schema in schemas:
        properties = _document()["components"]["schemas"][schema]["properties"]
        assert properties[old]["deprecated"] is True, schema
        assert not properties[new].get("deprecated"), schema


def test_no_old_spelling_is_a_current_name() -> None:
    current = [
        where
        for where, thing, _ in _named_things()
        if thing["name"] in OLD_SPELLINGS and not thing.get("deprecated")
    ]
    assert not current, f"old spellings used as current names: {current}"
