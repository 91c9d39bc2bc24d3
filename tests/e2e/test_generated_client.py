"""A Python client generated with openapi-python-client from the gateway's merged document (during the
test, into a temporary directory; never committed) runs whole flows against the four real processes:
login, an institution created, an agreement signed by both parties, a home-care order placed and done.

It lives with the end-to-end tests to share their platform (one start per session); the contract tests
of the document itself are in tests/openapi/. The generator runs on the document the running gateway
serves (``GET /openapi.json``), with a config mapping file answers (PDF, XLSX, images) to bytes and no post
hooks (formatting the output is not needed to import it). Every call below goes through the generated
code; tokens too (the form grant).
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from demo import DEMO_PASSWORD, demo_id
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.e2e

PACKAGE = "yiyang_generated_client"
GENERATOR = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or shutil.which(
    "openapi-python-client"
)
CONFIG = {
    "content_type_overrides": {
        "application/pdf": "application/octet-stream",
        "image/jpeg": "application/octet-stream",
        "image/png": "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/octet-stream",
    },
    "post_hooks": [],
}
#: the seeded recipient of 厦门新开元医院 the order is for (demo/homecare.py) and her home
RECIPIENT = ("黄国平", 24.5258, 118.1187)


class Generated:
    """The generated package: its clients, models and one function per operation."""

    def __init__(self, package: ModuleType, base_url: str, output: str, seconds: float) -> None:
        self.package = package
        self.models: Any = importlib.import_module(f"{PACKAGE}.models")
        self.base_url = base_url
        self.output = output
        self.seconds = seconds

    def operation(self, tag: str, operation_id: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")

    async def call(self, tag: str, operation_id: str, client: Any, expected: int, **kwargs: Any) -> Any:
        response = await self.operation(tag, operation_id).asyncio_detailed(client=client, **kwargs)
        assert response.status_code == expected, (operation_id, response.status_code, response.content[:500])
        return response.parsed

    async def login(self, username: str) -> Any:
        anonymous = self.package.Client(base_url=self.base_url)
        body = self.models.BodyGatewayIssueToken(
            grant_type="password", username=username, password=DEMO_PASSWORD
        )
        token = await self.call("auth", "gateway_issue_token", anonymous, 200, body=body)
        return self.package.AuthenticatedClient(base_url=self.base_url, token=token.access_token)


@pytest.fixture(scope="module")
def generated(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    if GENERATOR is None:
        # a dev tool the project installs ([dev] extra) must be present: its absence fails, never skips
        pytest.fail("openapi-python-client is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("generated_client")
    # A service slow to answer (a loaded CI machine) is left out of the merged document for a few seconds
    # only; wait for the whole document rather than generate a client from part of it.
    deadline = time.monotonic() + 60
    while True:
        document = httpx.get(f"{platform.gateway}/openapi.json", timeout=30).json()
        if not document["x-missing-services"] or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert document["x-missing-services"] == []
    (root / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (root / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
            "--config",
            str(root / "config.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(root))
    try:
        yield Generated(importlib.import_module(PACKAGE), platform.gateway, output, seconds)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_operation_is_generated_without_warnings(generated: Generated) -> None:
    assert "Warning" not in generated.output, generated.output
    assert generated.seconds < 60, f"generation took {generated.seconds:.1f} s"
    assert generated.operation("institutions", "registry_create_institution")
    assert generated.operation("homecare_orders", "homecare_complete_order")


async def test_a_county_admin_creates_an_institution(generated: Generated) -> None:
    huli = await generated.login("huli_admin")
    me = await generated.call("auth", "gateway_get_me", huli, 200)
    assert (me.role, me.region_code) == ("county_admin", "350206")
    name = f"生成客户端护理院{uuid.uuid4().hex[:6]}"
    body = generated.models.InstitutionCreate.from_dict(
        {
            "name": name,
            "kind": "elderly_care",
            "category": "elderly_care_home",
            "elderly_care_ownership": "private",
            "region_code": "350206",
            "beds_elderly_care": 60,
        }
    )
    created = await generated.call("institutions", "registry_create_institution", huli, 201, body=body)
    assert (created.name, created.kind.value, created.version) == (name, "elderly_care", 1)
    fetched = await generated.call(
        "institutions", "registry_get_institution", huli, 200, institution_id=created.id
    )
    assert fetched.beds_elderly_care == 60
    siming = await generated.login("siming_admin")
    await generated.call("institutions", "registry_get_institution", siming, 404, institution_id=created.id)


async def test_the_medical_and_elderly_care_admins_sign_an_agreement(generated: Generated) -> None:
    """The pair 厦门新开元医院–兰馨颐养院 has an agreement in force (seed): the elderly-care side drafts
    its renewal and submits it, the medical side countersigns it."""
    lanxin = await generated.login("lanxin_admin")
    xinkaiyuan = await generated.login("xinkaiyuan_admin")
    medical_id = demo_id("institution", "厦门新开元医院")
    page = await generated.call(
        "agreements",
        "contracts_list_agreements",
        lanxin,
        200,
        institution_id=demo_id("institution", "兰馨颐养院"),
        status=generated.models.AgreementState.ACTIVE,
    )
    [current] = [a for a in page.items if a.medical_party.institution_id == medical_id]

    renewal = await generated.call(
        "agreements",
        "contracts_renew_agreement",
        lanxin,
        201,
        agreement_id=current.id,
        body=generated.models.Renew(),
        if_match=f'"{current.version}"',
    )
    assert renewal.state.value == "draft"
    submitted = await generated.call(
        "agreements",
        "contracts_submit_agreement",
        lanxin,
        200,
        agreement_id=renewal.id,
        if_match=f'"{renewal.version}"',
    )
    assert submitted.state.value == "submitted"
    await generated.call(  # a party may not countersign its own submission
        "agreements",
        "contracts_countersign_agreement",
        lanxin,
        403,
        agreement_id=renewal.id,
        if_match=f'"{submitted.version}"',
    )
    signed = await generated.call(
        "agreements",
        "contracts_countersign_agreement",
        xinkaiyuan,
        200,
        agreement_id=renewal.id,
        if_match=f'"{submitted.version}"',
    )
    assert signed.state.value == "countersigned"
    assert signed.start_date == current.end_date + timedelta(days=1)


def _located(models: Any, latitude: float, longitude: float) -> Any:
    return models.Located.from_dict(
        {
            "client_event_id": str(uuid.uuid4()),
            "client_at": datetime.now(UTC).isoformat(),
            "latitude": latitude,
            "longitude": longitude,
            "accuracy_m": 10.0,
            "is_mock_location": False,
        }
    )


async def test_a_home_care_order_is_placed_and_completed(generated: Generated) -> None:
    admin = await generated.login("xinkaiyuan_admin")
    doctor = await generated.login("xinkaiyuan_doctor")
    nurse = await generated.login("xinkaiyuan_nurse")
    models = generated.models
    name, latitude, longitude = RECIPIENT
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    order = await generated.call(
        "homecare_orders",
        "homecare_place_order",
        admin,
        201,
        body=models.OrderCreate.from_dict(
            {
                "recipient_id": str(demo_id("recipient", name)),
                "item_codes": ["HC01"],
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(hours=2)).isoformat(),
                "note": "生成的客户端下单",
            }
        ),
    )
    assert order.status.value == "submitted"

    async def step(who: Any, operation_id: str, **kwargs: Any) -> Any:
        nonlocal order
        tag = "homecare_visits" if operation_id == "homecare_submit_visit_record" else "homecare_orders"
        expected = 201 if operation_id == "homecare_submit_visit_record" else 200
        parsed = await generated.call(
            tag, operation_id, who, expected, order_id=order.id, if_match=f'"{order.version}"', **kwargs
        )
        if operation_id != "homecare_submit_visit_record":
            order = parsed
        return parsed

    await step(
        doctor, "homecare_assess_order", body=models.AssessBody.from_dict({"service_group": "chronic"})
    )
    await step(admin, "homecare_accept_order")
    await step(
        admin,
        "homecare_assign_order",
        body=models.AssignBody.from_dict({"nurse_practitioner_id": str(demo_id("practitioner", "林晓燕"))}),
    )
    await step(nurse, "homecare_depart_order", body=models.DepartBody.from_dict({}))
    await step(nurse, "homecare_check_in_order", body=_located(models, latitude, longitude))
    await step(nurse, "homecare_start_order", body=models.ClientEvent.from_dict({}))
    await step(nurse, "homecare_check_out_order", body=_located(models, latitude, longitude))
    now = datetime.now(UTC).isoformat()
    record = await step(
        nurse,
        "homecare_submit_visit_record",
        body=models.VisitRecordWrite.from_dict(
            {
                "record_id": str(uuid.uuid4()),
                "client_created_at": now,
                "client_updated_at": now,
                "items_done": ["HC01"],
                "vital_signs": {
                    "bp_systolic": 132,
                    "bp_diastolic": 84,
                    "pulse": 72,
                    "respiration_rate": 18,
                    "temperature_c": 36.5,
                    "spo2": 97,
                },
                "notes": "生命体征平稳，已完成评估与指导",
            }
        ),
    )
    assert record.items_done == ["HC01"]
    done = await step(nurse, "homecare_complete_order", body=models.ClientEvent.from_dict({}))
    assert done.status.value == "completed"
    assert not done.flagged
    fetched = await generated.call("homecare_orders", "homecare_get_order", admin, 200, order_id=order.id)
    assert fetched.status.value == "completed"
