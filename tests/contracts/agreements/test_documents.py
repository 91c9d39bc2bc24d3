"""Signed PDF upload (size limit, magic bytes, SHA-256), download, printable HTML, contacts' phones."""

from __future__ import annotations

import hashlib
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.models import AuditRecord
from libs.common.testing import Tokens, live_client
from tests.contracts.conftest import LIVE_REGION
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed
from tests.contracts.registry_data import RegistryData

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _upload(
    client: httpx.AsyncClient, agreement: dict[str, object], headers: dict[str, str], content: bytes
) -> httpx.Response:
    return await client.post(
        f"{AGREEMENTS}/{agreement['id']}/document",
        files={"file": ("协议.pdf", content, "application/pdf")},
        headers={**headers, "If-Match": f'"{agreement["version"]}"'},
    )


async def test_signed_pdf_is_stored_with_sha256_and_downloadable(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly)
    response = await _upload(client, agreement, admin_of(tokens, medical), PDF)
    assert response.status_code == 200, response.text
    document = response.json()["document"]
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (document["size_bytes"], document["filename"]) == (len(PDF), "协议.pdf")
    download = await client.get(
        f"{AGREEMENTS}/{agreement['id']}/document", headers=tokens.headers(Role.county_admin, "350206")
    )
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-sha256"] == document["sha256"]


async def test_non_pdf_upload_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await draft(client, tokens, medical, elderly)
    response = await _upload(client, agreement, admin_of(tokens, elderly), b"<html>not a pdf</html>")
    assert (response.status_code, response.json()["code"]) == (422, "document_not_pdf")


async def test_upload_over_the_size_limit_is_413(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await draft(client, tokens, medical, elderly)
    limit = contracts_app.state.settings.document_max_bytes
    response = await _upload(client, agreement, admin_of(tokens, elderly), PDF + b"0" * limit)
    assert (response.status_code, response.json()["code"]) == (413, "document_too_large")
    exact = await _upload(client, agreement, admin_of(tokens, elderly), PDF + b"0" * (limit - len(PDF)))
    assert exact.status_code == 200, exact.text


async def test_download_without_document_is_404(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await draft(client, tokens, medical, elderly)
    response = await client.get(f"{AGREEMENTS}/{agreement['id']}/document", headers=admin_of(tokens, medical))
    assert (response.status_code, response.json()["code"]) == (404, "document_not_found")


async def test_print_follows_model_text_sections_and_escapes_input(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(
        client, tokens, medical, elderly, visit_staff="<script>alert(1)</script>主治医师"
    )
    response = await client.get(f"{AGREEMENTS}/{agreement['id']}/print", headers=admin_of(tokens, elderly))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    sections = ["协议双方", "合作服务内容", "巡诊频次及人员", "绿色通道与双向转诊", "服务费用"]
    sections += ["双方责任", "协议期限", "协议的变更与解除", "争议解决", "联系人"]
    for section in sections:
        assert section in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "每周 1 次" in html
    assert "双向转诊" in html


async def test_contact_phones_are_masked_except_for_the_parties_with_a_disclosure_record(
    live_registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    # live: the disclosure record is written in a unit of work of its own, which the rolled-back
    # test harness (one connection, nested savepoints) would discard with the read transaction
    medical, elderly = await live_registry.medical(LIVE_REGION), await live_registry.elderly(LIVE_REGION)
    async with live_client(contracts_app) as client:
        agreement = await draft(client, tokens, medical, elderly)
        assert agreement["medical_contact"] == {"name": "李主任", "phone": "138****5678"}
        county = await client.get(
            f"{AGREEMENTS}/{agreement['id']}", headers=tokens.headers(Role.county_admin, LIVE_REGION)
        )
        assert county.json()["elderly_contact"]["phone"] == "139****5678"
        party = await client.get(f"{AGREEMENTS}/{agreement['id']}", headers=admin_of(tokens, medical))
        assert party.json()["elderly_contact"]["phone"] == "13912345678"
        listed = await client.get(
            AGREEMENTS, params={"institution_id": medical["id"]}, headers=admin_of(tokens, medical)
        )
        assert listed.json()["items"][0]["elderly_contact"]["phone"] == "139****5678"
    async with contracts_app.state.database.session() as session:
        records = (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id == agreement["id"]))
        ).all()
    disclosures = [r for r in records if r.action == "personal_data.disclose"]
    assert len(disclosures) == 1
    assert disclosures[0].actor_institution_id == uuid.UUID(medical["id"])
    assert "13912345678" not in str([r.changes for r in records])


async def test_service_kinds_carry_chinese_labels(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(
        "/api/v1/contracts/service-kinds",
        headers=tokens.headers(Role.institution_admin, "350206", institution_id=uuid.uuid4()),
    )
    kinds = {item["code"]: item["label"] for item in response.json()}
    assert len(kinds) == 13
    assert kinds["two_way_referral"] == "双向转诊"
    assert kinds["emergency_green_channel"] == "急诊急救绿色通道"
