"""Tokens: the only module that imports the JWT library.

The gateway signs access tokens with an EC P-256 key (ES256, ``kid`` = RFC 7638 thumbprint) and
publishes the public keys as a JWKS. Every service verifies every token itself against that JWKS:
the algorithm is pinned to ES256 (no ``none``, no HS/RS confusion), ``kid`` must name a published key,
and ``exp``, ``iat``, ``sub``, ``iss`` and ``aud`` are required; an ``iat`` later than now plus the
allowed clock skew is refused.

Audiences: tokens of users and city platforms carry the platform audience (``jwt_audience``) and are
valid at every service. A token of role ``service`` carries the name of the ONE service it may call
(``aud="registry"``, asked for with the ``audience`` form parameter of the token request) and is refused
by every other service, so a leaked secret of one service cannot read another service's people.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from libs.common.divisions import PROVINCE_CODE, RegionScope
from libs.common.errors import ServiceUnavailable, Unauthorized

ALGORITHM = "ES256"


class Role(StrEnum):
    province_admin = "province_admin"
    city_admin = "city_admin"
    county_admin = "county_admin"
    institution_admin = "institution_admin"
    institution_staff = "institution_staff"
    city_platform = "city_platform"
    service = "service"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.province_admin: "省级管理员",
    Role.city_admin: "设区市管理员",
    Role.county_admin: "县（市、区）管理员",
    Role.institution_admin: "机构管理员",
    Role.institution_staff: "机构医护人员",
    Role.city_platform: "城市平台接口",
    Role.service: "内部服务",
}
INSTITUTION_ROLES = frozenset({Role.institution_admin, Role.institution_staff})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the verified token says."""

    sub: str
    role: Role
    region_code: str
    institution_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    jti: str | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> RegionScope:
        if self.role is Role.service:
            return RegionScope(PROVINCE_CODE[:2])
        return RegionScope.for_region(self.region_code)

    @property
    def is_institution_user(self) -> bool:
        return self.role in INSTITUTION_ROLES


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    return {**jwk, "kid": _thumbprint(jwk), "use": "sig", "alg": ALGORITHM}


def _thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 thumbprint of an EC public JWK (the ``kid`` this platform gives its keys)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def generate_private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def ensure_dev_key_file(path: Path) -> str:
    """Development only: the signing key kept under ``var/``, made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_private_key_pem(), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii")


def _published_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """An extra key to publish: an EC P-256 public JWK with a ``kid``; a private member is refused (it
    would be published) — so is anything else."""
    if "d" in jwk:
        raise ValueError("extra_public_jwks: a private key was given; publish the public key only")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not jwk.get("kid"):
        raise ValueError("extra_public_jwks: each key must be an EC P-256 public JWK with a kid")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise ValueError("extra_public_jwks: each key must carry x and y")
    public = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    if jwk["kid"] != _thumbprint(public):
        raise ValueError("extra_public_jwks: a kid is not its key's thumbprint (RFC 7638)")
    return {**public, "kid": jwk["kid"], "use": "sig", "alg": ALGORITHM}


class TokenIssuer:
    """Signs tokens (gateway only)."""

    def __init__(
        self,
        private_key_pem: str,
        *,
        issuer: str,
        audience: str,
        extra_public_jwks: Sequence[dict[str, Any]] = (),
    ) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the signing key must be an EC P-256 private key")
        self._pem = private_key_pem
        self.public_jwk = public_jwk(key.public_key())
        self.kid = self.public_jwk["kid"]
        self.issuer = issuer
        self.audience = audience
        # previous (or next) keys published beside the signing one: public members only, no duplicate
        self._extra: list[dict[str, Any]] = []
        for jwk in extra_public_jwks:
            published = _published_jwk(jwk)
            if published["kid"] not in {self.kid, *(k["kid"] for k in self._extra)}:
                self._extra.append(published)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [self.public_jwk, *self._extra]}

    def issue(
        self, claims: Mapping[str, Any], ttl: timedelta, *, audience: str | list[str] | None = None
    ) -> tuple[str, datetime]:
        """Sign ``claims``; ``audience`` replaces the platform audience (service tokens name their
        target service)."""
        now = datetime.now(UTC)
        expires = now + ttl
        payload = {
            **{k: v for k, v in claims.items() if v is not None},
            "iss": self.issuer,
            "aud": audience or self.audience,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": claims.get("jti") or uuid.uuid4().hex,
        }
        token = jwt.encode(payload, self._pem, algorithm=ALGORITHM, headers={"kid": self.kid})
        return token, expires


def service_principal(client_id: str) -> Principal:
    """The principal of an internal service's token (``sub`` = ``service:<client_id>``)."""
    return Principal(sub=f"service:{client_id}", role=Role.service, region_code=PROVINCE_CODE)


def service_caller(principal: Principal) -> str | None:
    """The client id of a service principal (``service:<client_id>``), else ``None``."""
    kind, _, caller = principal.sub.partition(":")
    return caller if principal.role is Role.service and kind == "service" else None


def principal_claims(principal: Principal) -> dict[str, Any]:
    return {
        "sub": principal.sub,
        "role": principal.role.value,
        "region_code": principal.region_code,
        "institution_id": str(principal.institution_id) if principal.institution_id else None,
        "practitioner_id": str(principal.practitioner_id) if principal.practitioner_id else None,
    }


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    try:
        return Principal(
            sub=str(claims["sub"]),
            role=Role(claims["role"]),
            region_code=str(claims["region_code"]),
            institution_id=uuid.UUID(claims["institution_id"]) if claims.get("institution_id") else None,
            practitioner_id=uuid.UUID(claims["practitioner_id"]) if claims.get("practitioner_id") else None,
            jti=claims.get("jti"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("令牌内容不完整", code="invalid_token") from exc


@dataclass
class _KeyCache:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float = 0.0


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token that passed verification: its principal, the key that signed it, and until when (``exp``
    plus the clock skew, epoch seconds) the checks it passed still hold."""

    principal: Principal
    kid: str
    key: dict[str, Any]
    usable_until: int


class TokenVerifier:
    """Verifies access tokens against a JWKS, fetched over HTTP and cached, or given directly.

    A client sends the same access token with every request until it expires, and checking an ES256
    signature (with the JWK turned into a key each time) was the largest fixed cost of a request (issue
    16). So a token that passed is remembered (at most ``verified_cache_size``, oldest dropped first) and
    accepted again without the signature check while it has not expired and the key that signed it is
    still the one published in a fresh key set — exactly what a full check would conclude then. A token
    that failed is never remembered: it is checked in full each time.
    """

    #: unknown ``kid``: fetch again at most this often (so forged kids cannot hammer the gateway)
    REFETCH_MIN_SECONDS = 10.0

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        static_jwks: Mapping[str, Any] | None = None,
        cache_seconds: float = 300.0,
        clock_skew_seconds: float = 30.0,
        verified_cache_size: int = 10_000,
    ) -> None:
        self.issuer = issuer
        self.verified_cache_size = verified_cache_size
        self._verified: dict[tuple[str, str | None], _Verified] = {}
        self.clock_skew_seconds = clock_skew_seconds
        self.audience = audience
        self.jwks_url = jwks_url
        self.http_client = http_client
        self.cache_seconds = cache_seconds
        self._cache = _KeyCache()
        self._lock = asyncio.Lock()
        if static_jwks is not None:
            self._cache.keys = {k["kid"]: k for k in static_jwks["keys"]}
            self._cache.fetched_at = float("inf")

    async def _fetch(self) -> None:
        if self.jwks_url is None or self.http_client is None:
            return
        try:
            response = await self.http_client.get(self.jwks_url, timeout=5.0)
            response.raise_for_status()
            keys = response.json()["keys"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise ServiceUnavailable("暂时无法获取令牌公钥，请稍后重试", code="jwks_unavailable") from exc
        self._cache = _KeyCache({k["kid"]: k for k in keys if k.get("kty") == "EC"}, time.monotonic())

    async def _key(self, kid: str) -> dict[str, Any] | None:
        age = time.monotonic() - self._cache.fetched_at
        key = self._cache.keys.get(kid)
        if key is not None and age < self.cache_seconds:
            return key
        if key is None and age < self.REFETCH_MIN_SECONDS:
            return None
        async with self._lock:
            if time.monotonic() - self._cache.fetched_at >= min(self.cache_seconds, self.REFETCH_MIN_SECONDS):
                await self._fetch()
        return self._cache.keys.get(kid)

    async def verify(self, token: str, *, service: str | None = None) -> Principal:
        """Verify ``token`` for the service named ``service`` (``None``: no service token is accepted)."""
        remembered = self._verified.get((token, service))
        if remembered is not None:
            if (
                time.time() <= remembered.usable_until
                and time.monotonic() - self._cache.fetched_at < self.cache_seconds
                and self._cache.keys.get(remembered.kid) is remembered.key
            ):
                return remembered.principal
            del self._verified[(token, service)]  # expired, or its key changed: the full check decides
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("令牌格式无效", code="invalid_token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("令牌签名算法不被接受", code="invalid_token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("令牌缺少密钥标识 kid", code="invalid_token")
        key = await self._key(kid)
        if key is None:
            raise Unauthorized("令牌的签名密钥未知", code="invalid_token")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "verify_aud": False,  # checked below: the accepted audience depends on the role
                    "leeway": self.clock_skew_seconds,
                },
            )
        except ExpiredSignatureError as exc:
            raise Unauthorized("令牌已过期", code="token_expired") from exc
        except JOSEError as exc:
            raise Unauthorized("令牌签名或声明无效", code="invalid_token") from exc
        issued_at = claims.get("iat")
        if not isinstance(issued_at, int | float) or issued_at > time.time() + self.clock_skew_seconds:
            raise Unauthorized("令牌签发时间晚于当前时间", code="invalid_token")
        principal = _principal_from_claims(claims)
        audience = claims.get("aud")
        audiences = {audience} if isinstance(audience, str) else set(audience or ())
        wanted = service if principal.role is Role.service else self.audience
        if wanted is None or wanted not in audiences:
            raise Unauthorized("令牌的受众（aud）不是本服务", code="invalid_token")
        self._remember(
            (token, service),
            _Verified(principal, kid, key, int(claims["exp"]) + int(self.clock_skew_seconds)),
        )
        return principal

    def _remember(self, token: tuple[str, str | None], verified: _Verified) -> None:
        if self.verified_cache_size <= 0:
            return
        while len(self._verified) >= self.verified_cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest first
        self._verified[token] = verified
