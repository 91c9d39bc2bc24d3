"""The S3-compatible store: SigV4 signing (AWS's published example), and the attachments API over it,
against a small in-process S3 that checks every request's signature and payload hash."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from services.homecare.attachments.s3 import S3Error, S3Store, sigv4_authorization
from tests.homecare.attachments.test_attachments import JPEG, fresh, sha, upload
from tests.homecare.attachments.test_resumable import begin, chunk
from tests.homecare.world import HC, World, crew

KEY_ID, SECRET, REGION = "homecare-test", "test-secret-key", "us-east-1"


def test_sigv4_matches_the_aws_example() -> None:
    # AWS "Signature Version 4 — Examples: GET Object" (examplebucket, test.txt, Range bytes=0-9)
    authorization = sigv4_authorization(
        method="GET",
        host="examplebucket.s3.amazonaws.com",
        path="/test.txt",
        query={},
        headers={
            "range": "bytes=0-9",
            "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
            "x-amz-date": "20130524T000000Z",
        },
        payload_sha256=hashlib.sha256(b"").hexdigest(),
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        amz_date="20130524T000000Z",
    )
    assert authorization == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


class FakeS3:
    """Path-style PUT/GET/HEAD/DELETE of objects and ListObjectsV2, each request's SigV4 checked."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        query = dict(parse_qsl(scope["query_string"].decode()))
        status, content = self.handle(scope["method"], scope["path"], query, headers, body)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": content})

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        payload = headers.get("x-amz-content-sha256", "")
        signed_names = re.search(r"SignedHeaders=([^,]+)", headers.get("authorization", ""))
        if payload != hashlib.sha256(body).hexdigest() or signed_names is None:
            self.refused += 1
            return 403, b"<Error><Code>AccessDenied</Code></Error>"
        expected = sigv4_authorization(
            method=method,
            host=headers["host"],
            path=path,
            query=query,
            headers={n: headers[n] for n in signed_names.group(1).split(";") if n != "host"},
            payload_sha256=payload,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
            region=REGION,
            amz_date=headers["x-amz-date"],
        )
        if headers["authorization"] != expected:
            self.refused += 1
            return 403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
        bucket, _, key = path.lstrip("/").partition("/")
        assert bucket == "attachments-test"
        if not key and method == "GET":
            keys = sorted(k for k in self.objects if k.startswith(query.get("prefix", "")))
            return 200, "".join(f"<Contents><Key>{k}</Key></Contents>" for k in keys).encode()
        if method == "PUT":
            self.objects[key] = body
            return 200, b""
        if method == "DELETE":
            self.objects.pop(key, None)
            return 204, b""
        if key not in self.objects:
            return 404, b""
        return 200, self.objects[key] if method == "GET" else b""


@pytest.fixture(scope="module")
async def fake_s3(homecare_app: FastAPI, attachment_store: Any) -> AsyncIterator[FakeS3]:
    fake = FakeS3()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake)) as http:
        homecare_app.state.attachment_store = S3Store(
            http,
            endpoint_url="http://minio:9000",
            bucket="attachments-test",
            region=REGION,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
        )
        yield fake


async def test_uploads_and_reads_go_through_the_object_store(world: World, fake_s3: FakeS3) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    data = fresh(JPEG)
    assert (await upload(world, nurse, data)).status_code == 201
    assert fake_s3.objects[f"attachments/{sha(data)}"] == data
    got = await world.client.get(f"{HC}/attachments/{sha(data)}", headers=nurse)
    assert got.content == data

    big = fresh(JPEG) + bytes(300)
    upload_id = (await begin(world, nurse, big)).json()["upload_id"]
    assert (await chunk(world, nurse, upload_id, big, 0, 200)).status_code == 200
    assert (await chunk(world, nurse, upload_id, big, 100, len(big))).status_code == 201
    assert fake_s3.objects[f"attachments/{sha(big)}"] == big
    assert not [k for k in fake_s3.objects if k.startswith("uploads/")]
    assert fake_s3.refused == 0


async def test_a_wrong_secret_is_refused_by_the_store(fake_s3: FakeS3) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_s3)) as http:
        store = S3Store(
            http,
            endpoint_url="http://minio:9000",
            bucket="attachments-test",
            region=REGION,
            access_key_id=KEY_ID,
            secret_access_key="not-the-secret",
        )
        with pytest.raises(S3Error, match="HTTP 403"):
            await store.put("0" * 64, b"x")
