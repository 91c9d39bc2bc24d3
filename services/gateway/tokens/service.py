"""Issuing tokens: the password, refresh-token and client-credentials grants, and logout.

Each grant runs its own short transactions instead of the request session: a failed attempt must be
recorded (and a reused refresh token's family revoked) even though the request answers an error, and no
write lock may be held while argon2 verifies a password in a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role, TokenIssuer, principal_claims, service_principal
from libs.common.database import Database, session_scope
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.settings import GatewaySettings
from services.gateway.tokens import login_limits
from services.gateway.tokens.errors import (
    AccountDisabled,
    InvalidClient,
    InvalidGrant,
    InvalidTarget,
    RefreshTokenReused,
)
from services.gateway.tokens.models import RefreshToken
from services.gateway.tokens.schemas import TokenResponse


@dataclass(frozen=True, slots=True)
class GrantContext:
    database: Database
    issuer: TokenIssuer
    settings: GatewaySettings
    client_address: str


def user_principal(user: User) -> Principal:
    return Principal(
        sub=f"user:{user.id}",
        role=Role(user.role),
        region_code=user.region_code,
        institution_id=user.institution_id,
        practitioner_id=user.practitioner_id,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _hash_refresh_token(token: str) -> str:
    # Refresh tokens are 256-bit random strings: a plain SHA-256 is enough to store them safely.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _access_token(ctx: GrantContext, user: User) -> tuple[str, int]:
    ttl = ctx.settings.access_token_ttl_seconds
    claims = {**principal_claims(user_principal(user)), "preferred_username": user.username}
    token, _ = ctx.issuer.issue(claims, timedelta(seconds=ttl))
    return token, ttl


def _new_refresh_token(
    session: AsyncSession, ctx: GrantContext, *, user_id: uuid.UUID, family_id: uuid.UUID
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user_id,
            token_hash=_hash_refresh_token(token),
            expires_at=_now() + timedelta(seconds=ctx.settings.refresh_token_ttl_seconds),
        )
    )
    return token


def _user_tokens(ctx: GrantContext, session: AsyncSession, user: User, family_id: uuid.UUID) -> TokenResponse:
    access, ttl = _access_token(ctx, user)
    refresh = _new_refresh_token(session, ctx, user_id=user.id, family_id=family_id)
    return TokenResponse(
        access_token=access,
        expires_in=ttl,
        refresh_token=refresh,
        refresh_expires_in=ctx.settings.refresh_token_ttl_seconds,
    )


async def password_grant(ctx: GrantContext, *, username: str, password: str) -> TokenResponse:
    account = username.strip().lower()
    async with session_scope(ctx.database, write=False) as session:
        await login_limits.ensure_attempt_allowed(
            session, account=account, address=ctx.client_address, settings=ctx.settings, now=_now()
        )
        user = await session.scalar(select(User).where(User.username == account))
    matches = await passwords.verify(user.password_hash if user else None, password)
    failure: InvalidGrant | None = None
    if user is None or not matches:
        failure = InvalidGrant("用户名或密码错误")
    elif not user.active:
        failure = AccountDisabled()
    # Parameters changed since the hash was made: upgrade it (hashed here, outside any transaction).
    upgraded_hash = None
    if failure is None and user is not None and passwords.needs_rehash(user.password_hash):
        upgraded_hash = await passwords.hash_(password)
    wait = 0
    async with session_scope(ctx.database) as session:
        now = _now()
        login_limits.record(
            session,
            account=account,
            address=ctx.client_address,
            grant_type="password",
            succeeded=failure is None,
            reason=failure.code if failure else None,
            now=now,
        )
        if failure is not None or user is None:
            response = None
            if failure is None or failure.code == "invalid_grant":
                await session.flush()
                wait = await login_limits.account_throttle(
                    session, account=account, settings=ctx.settings, now=now
                )
        else:
            if upgraded_hash is not None:
                # Only the hash changes; a concurrent edit of the user (its version) is left alone.
                await session.execute(
                    update(User)
                    .where(User.id == user.id, User.password_hash == user.password_hash)
                    .values(password_hash=upgraded_hash)
                )
            response = _user_tokens(ctx, session, user, family_id=uuid.uuid4())
    if response is None:
        login_limits.raise_for_account(wait)
        raise failure or InvalidGrant("用户名或密码错误")
    return response


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of a user (deactivation, password reset)."""
    await _lock_sessions_of(session, user_id)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


async def _lock_sessions_of(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise every change to one user's refresh tokens on the user's row (PostgreSQL; SQLite
    writes are serial already). Concurrent reuses of one family each revoke the whole family, and
    row-by-row locking of the family's tokens can deadlock (seen as 500s under a reuse burst).
    ``FOR NO KEY UPDATE`` does not block the key-share lock a new token's foreign key takes."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def refresh_grant(ctx: GrantContext, *, refresh_token: str) -> TokenResponse:
    failure: InvalidGrant | None = None
    response: TokenResponse | None = None
    async with session_scope(ctx.database) as session:
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh_token(refresh_token))
        )
        if row is not None:
            await _lock_sessions_of(session, row.user_id)
            await session.refresh(row)  # decide on the state after the lock
        now = _now()
        if row is None:
            failure = InvalidGrant("刷新令牌无效")
        elif row.revoked_at is not None:
            failure = InvalidGrant("刷新令牌已撤销，请重新登录", code="refresh_token_revoked")
        elif row.rotated_at is not None:
            await _revoke_family(session, row.family_id)
            failure = RefreshTokenReused()
        elif row.expires_at <= now:
            failure = InvalidGrant("刷新令牌已过期，请重新登录", code="refresh_token_expired")
        else:
            # Conditional update: of two concurrent refreshes with one token only one rotates it.
            rotated = await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.id == row.id,
                    RefreshToken.rotated_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                )
                .values(rotated_at=now)
            )
            user = await session.get(User, row.user_id)
            if rotated.rowcount != 1:  # type: ignore[attr-defined]
                await _revoke_family(session, row.family_id)
                failure = RefreshTokenReused()
            elif user is None or not user.active:
                await _revoke_family(session, row.family_id)
                failure = AccountDisabled()
            else:
                response = _user_tokens(ctx, session, user, family_id=row.family_id)
    if response is None:
        raise failure or InvalidGrant("刷新令牌无效")
    return response


async def logout(database: Database, *, refresh_token: str) -> None:
    """Revoke the family of ``refresh_token``; unknown tokens are ignored (RFC 7009 §2.2)."""
    async with session_scope(database) as session:
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh_token(refresh_token))
        )
        if row is not None:
            await _lock_sessions_of(session, row.user_id)
            await _revoke_family(session, row.family_id)


def _service_token(ctx: GrantContext, client_id: str, audience: str) -> TokenResponse:
    ttl = ctx.settings.service_token_ttl_seconds
    claims = {**principal_claims(service_principal(client_id)), "client_id": client_id}
    token, _ = ctx.issuer.issue(claims, timedelta(seconds=ttl), audience=audience)
    return TokenResponse(access_token=token, expires_in=ttl)


def _client_token(ctx: GrantContext, client: ApiClient) -> TokenResponse:
    ttl = ctx.settings.client_token_ttl_seconds
    principal = Principal(
        sub=f"client:{client.client_id}", role=Role(client.role), region_code=client.region_code
    )
    claims = {**principal_claims(principal), "client_id": client.client_id}
    token, _ = ctx.issuer.issue(claims, timedelta(seconds=ttl))
    return TokenResponse(access_token=token, expires_in=ttl)


async def client_credentials_grant(
    ctx: GrantContext, *, client_id: str, client_secret: str, audience: str | None = None
) -> TokenResponse:
    """Internal services (configured secrets) are never throttled before their secret is compared: a
    right secret always works, whatever outsiders sent. City platforms are throttled like users."""
    account = f"client:{client_id}"
    expected = ctx.settings.service_clients.get(client_id)
    client = None
    if expected is None:
        async with session_scope(ctx.database, write=False) as session:
            await login_limits.ensure_attempt_allowed(
                session, account=account, address=ctx.client_address, settings=ctx.settings, now=_now()
            )
            client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))

    if expected is not None:
        succeeded = bool(expected) and hmac.compare_digest(expected.encode(), client_secret.encode())
    else:
        matches = await passwords.verify(client.secret_hash if client else None, client_secret)
        succeeded = client is not None and matches and client.active

    wait = 0
    async with session_scope(ctx.database) as session:
        now = _now()
        login_limits.record(
            session,
            account=account,
            address=ctx.client_address,
            grant_type="client_credentials",
            succeeded=succeeded,
            reason=None if succeeded else "invalid_client",
            now=now,
        )
        if not succeeded and expected is None:
            await session.flush()
            wait = await login_limits.account_throttle(
                session, account=account, settings=ctx.settings, now=now
            )
    if not succeeded:
        login_limits.raise_for_account(wait)
        raise InvalidClient()
    if expected is not None:
        allowed = ctx.settings.service_client_audiences.get(client_id, [])
        if audience is None or audience not in allowed:
            raise InvalidTarget(audience, allowed)
        return _service_token(ctx, client_id, audience)
    assert client is not None
    return _client_token(ctx, client)
