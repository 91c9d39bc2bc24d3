"""Visit record templates (issue 18): per catalog item, versioned data beside the catalog, served to the app
and checked when a record is submitted."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.homecare.catalog import templates
from tests.homecare.world import HC, World, crew, record_body, to_status

DATA = Path(__file__).resolve().parents[4] / "services" / "homecare" / "data"


def _catalog_codes() -> set[str]:
    with (DATA / "nursing_catalog_inferred.csv").open(encoding="utf-8") as handle:
        return {row["code"] for row in csv.DictReader(handle)}


def _with_versions(*extra: dict[str, Any]) -> templates.RecordTemplates:
    """The shipped file plus older versions (``tpl-1``'s content under another name and status)."""
    doc = json.loads((DATA / "record_templates.json").read_bytes())
    current = doc["versions"][0]
    doc["versions"] += [{**current, **overrides} for overrides in extra]
    return templates.parse(json.dumps(doc, ensure_ascii=False).encode())


async def _checked_in(world: World, items: list[str]) -> tuple[Any, dict[str, Any], dict[str, str]]:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=items)
    await to_status(world, c, order, "checked_in")
    return c, order, world.staff(c.provider, c.nurse)


def test_every_catalog_item_has_a_template_and_each_field_says_where_it_comes_from() -> None:
    loaded = templates.load()
    version = loaded.get(None)
    assert version is not None
    assert version.version == loaded.current == "tpl-1"
    assert set(version.items) == _catalog_codes()
    picc = {f.key for f in version.items["HC20"].fields}
    assert {"temperature_c", "pulse", "respiration_rate", "bp_systolic", "bp_diastolic"} <= picc
    sore = {f.key: f for f in version.items["HC23"].fields}
    assert {"wound_length_cm", "wound_width_cm", "wound_depth_cm", "pressure_injury_stage"} <= set(sore)
    assert version.items["HC23"].photos_min == 1
    assert "blood_glucose_mmol" in {f.key for f in version.items["HC02"].fields}
    # an item the catalog says needs a 医嘱 asks the nurse to confirm it
    assert all(
        "medical_order_checked" in {f.key for f in version.items[c].fields} for c in ("HC03", "HC05", "HC18")
    )
    assert {f.source for p in [version.base, *version.items.values()] for f in p.fields} == {
        "rules.md",
        "catalog",
        "likely",
    }


async def test_an_items_template_is_served_current_or_by_version(world: World) -> None:
    c = await crew(world)
    response = await world.client.get(
        f"{HC}/catalog/items/HC20/template", headers=world.staff(c.provider, c.nurse)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == "tpl-1"
    assert body["status"] == "current"
    assert body["item_code"] == "HC20"
    fields = {f["key"]: f for f in body["item"]["fields"]}
    assert fields["temperature_c"] == {
        "type": "number",
        "key": "temperature_c",
        "label": "体温",
        "required": True,
        "source": "rules.md",
        "unit": "℃",
        "min": "34",
        "max": "43",
        "decimals": 1,
        "in_vital_signs": True,
    }
    assert fields["site_condition"]["type"] == "choice"
    assert fields["site_condition"]["in_vital_signs"] is False
    assert body["item"]["photos_min"] == 1
    same = await world.client.get(f"{HC}/catalog/items/HC20/template?version=tpl-1", headers=world.county())
    assert same.json() == body


@pytest.mark.parametrize(
    "path", ["items/ZZ99/template", "items/HC20/template?version=tpl-0", "templates?version=x"]
)
async def test_an_unknown_item_or_version_is_404(world: World, path: str) -> None:
    response = await world.client.get(f"{HC}/catalog/{path}", headers=world.county())
    assert response.status_code == 404
    assert response.json()["code"] == "record_template_not_found"


async def test_the_apps_bundle_has_every_item_and_an_etag(world: World) -> None:
    response = await world.client.get(f"{HC}/catalog/templates", headers=world.county())
    assert response.status_code == 200, response.text
    assert set(response.json()["items"]) == _catalog_codes()
    assert response.json()["versions"] == ["tpl-1"]
    etag = response.headers["etag"]
    again = await world.client.get(
        f"{HC}/catalog/templates", headers={**world.county(), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert not again.content
    other = await world.client.get(
        f"{HC}/catalog/templates", headers={**world.county(), "If-None-Match": '"x"'}
    )
    assert other.status_code == 200


async def test_a_record_passing_its_template_stores_the_version_and_fields(world: World) -> None:
    c, order, nurse = await _checked_in(world, ["HC05"])
    fields = {
        "medical_order_checked": True,
        "drug_name": "甲钴胺注射液",
        "dose": "0.5 mg",
        "injection_site": "左上臂三角肌",
        "elder_condition": "stable",
    }
    body = record_body(order, fields=fields)
    response = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse)
    assert response.status_code == 201, response.text
    assert response.json()["template_version"] == "tpl-1"
    assert response.json()["fields"] == fields
    read = await world.client.get(f"{HC}/orders/{order['id']}/visit-record", headers=world.admin(c.provider))
    assert read.json()["template_version"] == "tpl-1"
    assert read.json()["vital_signs"]["respiration_rate"] == 18


async def test_a_record_failing_its_template_is_422_naming_each_field(world: World) -> None:
    _, order, nurse = await _checked_in(world, ["HC01", "HC05"])
    body = record_body(order)
    body["vital_signs"] = {"pulse": 76, "temperature_c": "36.6"}
    body["fields"] = {
        "medical_order_checked": True,
        "drug_name": "甲钴胺注射液",
        "dose": "0.5 mg",
        "injection_site": "左上臂三角肌",
        "elder_condition": "bedtime",
        "health_education_given": 3,
        "wound_length_cm": 2,
        "pulse": 70,
    }
    response = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "record_template_violation"
    assert problem["extra"] == {"template_version": "tpl-1"}
    errors = {e["field"]: (e["code"], e["message"]) for e in problem["errors"]}
    assert errors == {
        "body.vital_signs.respiration_rate": ("required", "须填写呼吸"),
        "body.vital_signs.bp_systolic": ("required", "须填写收缩压"),
        "body.vital_signs.bp_diastolic": ("required", "须填写舒张压"),
        "body.fields.elder_condition": (
            "not_a_choice",
            "服务后老人情况须为以下之一：stable（平稳）、discomfort_handled（不适已处理）、needs_medical_care（需就医或转诊）",
        ),
        "body.fields.health_education_given": ("not_a_boolean", "已做健康宣教须为是或否"),
        "body.fields.wound_length_cm": ("field_not_in_template", "所做项目的记录模板中没有此字段"),
        "body.fields.pulse": ("field_not_in_template", "请填写在 vital_signs 中"),
    }
    missing = await world.client.get(f"{HC}/orders/{order['id']}/visit-record", headers=nurse)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"wound_length_cm": 51}, "out_of_range"),
        ({"wound_length_cm": 2.25}, "too_many_decimals"),
        ({"wound_length_cm": "长"}, "not_a_number"),
        ({"wound_length_cm": True}, "not_a_number"),
        ({"exudate": "lots"}, "not_a_choice"),
    ],
)
async def test_each_check_of_a_number_and_a_choice(world: World, fields: dict[str, Any], code: str) -> None:
    _, order, nurse = await _checked_in(world, ["HC01"])
    body = record_body(order, items_done=["HC01"])
    version = templates.load().get(None)
    assert version is not None
    errors = templates.violations(
        version,
        ["HC22"],
        templates.RecordValues(
            vital_signs={},
            fields={
                "wound_length_cm": 2,
                "wound_width_cm": 1.5,
                "wound_depth_cm": 0.5,
                "exudate": "none",
                **fields,
            },
            photo_count=1,
            has_signature=False,
        ),
    )
    assert [e.code for e in errors] == [code]
    # and through the API, for an item of the order (HC01's integer pulse as a float)
    body["vital_signs"] = {**body["vital_signs"], "pulse": 76.5}
    response = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_integer_text_boolean_photos_and_signature_checks() -> None:
    version = templates.load().get(None)
    assert version is not None
    values = templates.RecordValues(
        vital_signs={},
        fields={
            "drug_name": "x" * 101,
            "dose": "  ",
            "injection_site": "左上臂",
            "medical_order_checked": "yes",
        },
        photo_count=0,
        has_signature=False,
    )
    errors = {e.field: e.code for e in templates.violations(version, ["HC05"], values)}
    assert errors == {
        "body.fields.drug_name": "too_long",
        "body.fields.dose": "not_a_text",
        "body.fields.medical_order_checked": "not_a_boolean",
    }
    ints = templates.RecordValues(
        vital_signs={}, fields={"braden_score": 12.5, "skin_intact": True}, photo_count=0, has_signature=False
    )
    assert [e.code for e in templates.violations(version, ["HC09"], ints)] == ["not_an_integer"]
    picc = templates.RecordValues(vital_signs={}, fields={}, photo_count=0, has_signature=False)
    assert "photos_missing" in {e.code for e in templates.violations(version, ["HC20"], picc)}
    signed = version.model_copy(update={"base": version.base.model_copy(update={"signature_required": True})})
    assert "signature_missing" in {e.code for e in templates.violations(signed, ["HC15"], picc)}


async def test_a_picc_record_needs_its_photo(world: World) -> None:
    _, order, nurse = await _checked_in(world, ["HC20"])
    response = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record", json=record_body(order), headers=nurse
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["photos_missing"]


@pytest.fixture
def app_state(homecare_app: FastAPI) -> Iterator[Any]:
    """The app's state, as the test changes it, restored after (starlette's State is not monkeypatchable)."""
    saved = dict(homecare_app.state._state)
    yield homecare_app.state
    homecare_app.state._state.clear()
    homecare_app.state._state.update(saved)


async def test_an_unknown_or_retired_version_is_422_and_an_older_active_one_is_accepted(
    world: World, app_state: Any
) -> None:
    app_state.record_templates = _with_versions(
        {"version": "tpl-0", "status": "retired"}, {"version": "tpl-0b", "status": "active"}
    )
    _, order, nurse = await _checked_in(world, ["HC01"])
    url = f"{HC}/orders/{order['id']}/visit-record"
    for name in ("tpl-9", "tpl-0"):
        response = await world.client.post(url, json=record_body(order, template_version=name), headers=nurse)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "record_template_unknown"
        assert response.json()["extra"] == {"template_version": name, "current": "tpl-1"}
    older = await world.client.post(url, json=record_body(order, template_version="tpl-0b"), headers=nurse)
    assert older.status_code == 201, older.text
    assert older.json()["template_version"] == "tpl-0b"


async def test_enforced_every_new_record_is_checked_against_the_current_version(
    world: World, app_state: Any
) -> None:
    app_state.settings = app_state.settings.model_copy(update={"record_template_enforced": True})
    _, order, nurse = await _checked_in(world, ["HC05"])
    body = record_body(order, fields={}, vital_signs={"pulse": 70})
    response = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse)
    assert response.status_code == 422
    assert response.json()["code"] == "record_template_violation"
    assert response.json()["extra"] == {"template_version": "tpl-1"}


async def test_in_the_migration_period_a_record_without_template_fields_is_stored_unchecked(
    world: World, app_state: Any
) -> None:
    app_state.settings = app_state.settings.model_copy(update={"record_template_enforced": False})
    _, order, nurse = await _checked_in(world, ["HC05"])
    url = f"{HC}/orders/{order['id']}/visit-record"
    body = record_body(order, fields={}, vital_signs={"pulse": 70})
    response = await world.client.post(url, json=body, headers=nurse)
    assert response.status_code == 201, response.text
    assert response.json()["template_version"] is None
    # naming a version (or sending fields) is checked all the same
    later = (datetime.fromisoformat(body["client_updated_at"]) + timedelta(minutes=5)).isoformat()
    checked = {**body, "template_version": "tpl-1", "client_updated_at": later}
    refused = await world.client.post(url, json=checked, headers=nurse)
    assert refused.status_code == 422
    assert refused.json()["code"] == "record_template_violation"
