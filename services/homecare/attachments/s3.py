"""The attachment store on an S3-compatible object store (MinIO in deploy/compose.yaml), over httpx with
AWS Signature Version 4 (path-style URLs: ``{endpoint}/{bucket}/{key}``) — no SDK dependency.

Objects: ``attachments/<sha256>``; a resumable upload's chunks ``uploads/<id>/<offset>`` (put back
together, later chunks over earlier ones, when the upload completes, then deleted).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_KEY = re.compile(r"<Key>([^<]+)</Key>")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sigv4_authorization(
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    amz_date: str,
    service: str = "s3",
) -> str:
    """The ``Authorization`` header of a request signed with AWS Signature Version 4; ``headers`` are the
    headers to sign besides ``host`` (names lower-case; ``x-amz-date`` and ``x-amz-content-sha256`` among
    them)."""
    signed = {"host": host, **{k.lower(): v.strip() for k, v in headers.items()}}
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_access_key}".encode(), day), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope},"
        f"SignedHeaders={';'.join(names)},Signature={signature}"
    )


class S3Error(RuntimeError):
    pass


class S3Store:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        endpoint_url: str,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
    ) -> None:
        self.http = http
        self.endpoint = endpoint_url.rstrip("/")
        self.host = urlsplit(self.endpoint).netloc
        self.base_path = urlsplit(self.endpoint).path
        self.bucket = bucket
        self.region = region
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    async def aclose(self) -> None:
        """Close the HTTP client (its pooled connections to the object store): at the app's shutdown."""
        await self.http.aclose()

    async def _request(
        self, method: str, key: str = "", *, body: bytes = b"", query: Mapping[str, str] | None = None
    ) -> httpx.Response:
        path = f"{self.base_path}/{self.bucket}/{key}" if key else f"{self.base_path}/{self.bucket}"
        payload = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
        amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        headers = {"x-amz-content-sha256": payload, "x-amz-date": amz_date}
        query = dict(query or {})
        headers["authorization"] = sigv4_authorization(
            method=method,
            host=self.host,
            path=path,
            query=query,
            headers=headers,
            payload_sha256=payload,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            region=self.region,
            amz_date=amz_date,
        )
        url = f"{self.endpoint.removesuffix(self.base_path)}{quote(path, safe='/-_.~')}"
        response = await self.http.request(
            method, url, params=query or None, content=body or None, headers=headers
        )
        if response.status_code >= 300 and response.status_code != 404:
            raise S3Error(f"S3 {method} {key or self.bucket}: HTTP {response.status_code}")
        return response

    async def put(self, sha256: str, data: bytes) -> None:
        await self._request("PUT", f"attachments/{sha256}", body=data)

    async def get(self, sha256: str) -> bytes | None:
        response = await self._request("GET", f"attachments/{sha256}")
        return None if response.status_code == 404 else response.content

    async def exists(self, sha256: str) -> bool:
        return (await self._request("HEAD", f"attachments/{sha256}")).status_code != 404

    async def write_part(self, upload_id: str, offset: int, data: bytes) -> None:
        await self._request("PUT", f"uploads/{upload_id}/{offset:012d}", body=data)

    async def _part_keys(self, upload_id: str) -> list[str]:
        response = await self._request("GET", query={"list-type": "2", "prefix": f"uploads/{upload_id}/"})
        return sorted(_KEY.findall(response.text)) if response.status_code == 200 else []

    async def read_part(self, upload_id: str) -> bytes:
        whole = bytearray()
        for key in await self._part_keys(upload_id):
            offset = int(key.rsplit("/", 1)[1])
            chunk = (await self._request("GET", key)).content
            if len(whole) < offset + len(chunk):
                whole.extend(bytes(offset + len(chunk) - len(whole)))
            whole[offset : offset + len(chunk)] = chunk
        return bytes(whole)

    async def drop_part(self, upload_id: str) -> None:
        for key in await self._part_keys(upload_id):
            await self._request("DELETE", key)
