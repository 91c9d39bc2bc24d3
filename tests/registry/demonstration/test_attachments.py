"""Attachments: PDF/JPEG/PNG by magic bytes, size-limited, SHA-256 stored, downloadable, then locked."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from fastapi import FastAPI

from tests.registry.demonstration.flow import APPLICATIONS, Flow

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


async def upload(
    flow: Flow,
    application: dict[str, Any],
    content: bytes,
    *,
    filename: str = "自评报告.pdf",
    declared_type: str = "application/pdf",
    item: str | None = "facilities",
    headers: dict[str, str] | None = None,
) -> Any:
    data = {"title": "自评报告"}
    if item is not None:
        data["item"] = item
    return await flow.client.post(
        f"{APPLICATIONS}/{application['id']}/attachments",
        files={"file": (filename, content, declared_type)},
        data=data,
        headers=headers or flow.applicant(application),
    )


async def test_a_pdf_is_stored_with_its_sha256_and_downloads_byte_for_byte(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_institution(batch["id"], await flow.institution())
    response = await upload(flow, application, PDF)
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert attachment["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (attachment["content_type"], attachment["size_bytes"]) == ("application/pdf", len(PDF))
    assert attachment["item"] == "facilities"

    download = await flow.client.get(attachment["download_path"], headers=flow.city())
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-sha256"] == attachment["sha256"]
    digest = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert download.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert (
        "filename*=UTF-8''%E8%87%AA%E8%AF%84%E6%8A%A5%E5%91%8A.pdf" in download.headers["content-disposition"]
    )

    listed = (await flow.get(application["id"]))["attachments"]
    assert [a["id"] for a in listed] == [attachment["id"]]
    report = (
        await flow.client.get(f"{APPLICATIONS}/{application['id']}/criteria", headers=flow.province())
    ).json()
    assert {i["item"]: i["attachments"] for i in report["self_assessment"]}["facilities"] == 1


@pytest.mark.parametrize(("content", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
async def test_the_type_comes_from_the_content_not_the_client(
    flow: Flow, content: bytes, media_type: str
) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    response = await upload(
        flow,
        application,
        content,
        filename="../../现场照片",
        declared_type="application/pdf",
        item="services",
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == media_type
    assert "/" not in response.json()["filename"]


async def test_a_file_that_is_not_pdf_or_image_is_refused_whatever_its_name(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    response = await upload(flow, application, b"MZ\x90\x00 not a pdf", filename="报告.pdf", item=None)
    assert response.status_code == 422
    assert response.json()["code"] == "demonstration_attachment_type_rejected"


async def test_an_empty_file_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    response = await upload(flow, application, b"", item=None)
    assert (response.status_code, response.json()["code"]) == (422, "demonstration_attachment_empty")


async def test_a_file_over_the_size_limit_is_413(
    flow: Flow, registry_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_app.state.settings, "demo_attachment_max_bytes", 1024)
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    over = await upload(flow, application, PDF + b"0" * 1024, item=None)
    at_limit = await upload(flow, application, PDF + b"0" * (1024 - len(PDF)), item=None)
    assert (over.status_code, over.json()["code"]) == (413, "demonstration_attachment_too_large")
    assert at_limit.status_code == 201


async def test_an_item_of_the_other_kind_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    response = await upload(flow, application, PDF, item="management")
    assert response.status_code == 422


async def test_attachments_are_locked_once_submitted(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    attachment = (await upload(flow, application, PDF, item="policy")).json()
    submitted = await flow.step(await flow.get(application["id"]), "submit")
    added = await upload(flow, submitted, PDF, item="policy")
    removed = await flow.client.delete(
        f"{APPLICATIONS}/{application['id']}/attachments/{attachment['id']}",
        headers={**flow.county(), "If-Match": f'"{attachment["version"]}"'},
    )
    assert (added.status_code, added.json()["code"]) == (409, "demonstration_application_locked")
    assert (removed.status_code, removed.json()["code"]) == (409, "demonstration_application_locked")


async def test_the_applicant_deletes_a_draft_attachment_with_if_match(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    attachment = (await upload(flow, application, PDF, item="policy")).json()
    url = f"{APPLICATIONS}/{application['id']}/attachments/{attachment['id']}"
    missing = await flow.client.delete(url, headers=flow.county())
    done = await flow.client.delete(url, headers={**flow.county(), "If-Match": f'"{attachment["version"]}"'})
    gone = await flow.client.get(f"{url}/content", headers=flow.county())
    assert (missing.status_code, done.status_code, gone.status_code) == (428, 204, 404)


async def test_uploading_changes_the_applications_version(flow: Flow) -> None:
    """A submit racing an upload is caught by If-Match: what is submitted is what was seen."""
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    await upload(flow, application, PDF, item="policy")
    stale = await flow.act(application["id"], "submit", flow.county(), if_match=f'"{application["version"]}"')
    assert stale.status_code == 412


async def test_attachments_of_an_application_out_of_scope_are_404(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    attachment = (await upload(flow, application, PDF, item="policy")).json()
    other = await flow.client.get(attachment["download_path"], headers=flow.county("350203"))
    assert other.status_code == 404
