"""Login throttling, kept in ``login_attempt`` so that every gateway replica sees the same counts.

The limiter throttles ATTEMPTS, never the right credentials of an account: nobody without the secret can
stop a user or a client from signing in from their own address.

- per account AND address (checked before the password is verified): after ``login_free_failures``
  failures of one account from one address (since that pair's last success), each further attempt from
  that address must wait ``base · 2^k`` seconds (at most the max) after the last failure →
  429 ``login_throttled``. The same account from another address is not affected;
- per account across addresses (after a WRONG password only): past ``login_max_failures_per_account``
  failures in the window since the account's last success, a wrong password answers 429
  ``account_throttled`` (growing ``Retry-After``) instead of 401; the right password still signs in;
- per address (checked before verification): past ``login_max_failures_per_address`` failures in the
  window the address waits (growing delays) → 429 ``too_many_requests``, except for accounts that signed
  in from that address within ``login_known_address_days`` (a victim behind the attacker's NAT); those
  still face the per-pair delays.

Counts are over the folded account string, whether or not the account exists (no enumeration). Refused
attempts are not recorded, so a delay ends by itself. Internal service clients are never pre-checked
(their secrets are long and compared in constant time): their right secret always works.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.settings import GatewaySettings
from services.gateway.tokens.errors import AccountThrottled, AddressThrottled, AttemptThrottled
from services.gateway.tokens.models import LoginAttempt

ACCOUNT_MAX_LENGTH = 120
ADDRESS_MAX_LENGTH = 64


def account_key(account: str) -> str:
    return account[:ACCOUNT_MAX_LENGTH]


def address_key(address: str) -> str:
    return address[:ADDRESS_MAX_LENGTH]


def delay_seconds(failures: int, *, free: int, settings: GatewaySettings) -> int:
    """The wait after the last of ``failures``: none for the first ``free``, then doubling."""
    if failures < free:
        return 0
    exponent = min(failures - free, 30)
    return int(min(settings.login_delay_max_seconds, settings.login_delay_base_seconds * 2**exponent))


async def _failures_since_success(
    session: AsyncSession, where: list[ColumnElement[bool]], *, since: datetime
) -> tuple[int, datetime | None]:
    """Failures matching ``where`` after ``since`` and after the last success matching ``where``."""
    last_success = await session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            *where, LoginAttempt.succeeded.is_(True), LoginAttempt.attempted_at > since
        )
    )
    after = max(since, last_success) if last_success is not None else since
    count, latest = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.attempted_at)).where(
                *where, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > after
            )
        )
    ).one()
    return int(count), latest


def _wait(latest: datetime | None, delay: int, now: datetime) -> int:
    """Seconds still to wait (0: go ahead)."""
    if latest is None or delay <= 0:
        return 0
    remaining = (latest + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(remaining))


async def ensure_attempt_allowed(
    session: AsyncSession, *, account: str, address: str, settings: GatewaySettings, now: datetime
) -> None:
    """Before verifying: raise :class:`AttemptThrottled` (this account from this address must wait) or
    :class:`AddressThrottled` (this address must wait, for accounts never signed in from it)."""
    account, address = account_key(account), address_key(address)
    pair = [LoginAttempt.account == account, LoginAttempt.client_address == address]
    memory = now - timedelta(seconds=settings.login_failure_memory_seconds)
    count, latest = await _failures_since_success(session, pair, since=memory)
    wait = _wait(latest, delay_seconds(count, free=settings.login_free_failures, settings=settings), now)
    if wait:
        raise AttemptThrottled(retry_after=wait)

    window_start = now - timedelta(seconds=settings.login_window_seconds)
    count, latest = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.attempted_at)).where(
                LoginAttempt.client_address == address,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at > window_start,
            )
        )
    ).one()
    delay = delay_seconds(int(count), free=settings.login_max_failures_per_address, settings=settings)
    wait = _wait(latest, delay, now)
    if wait and not await _signed_in_from(
        session, account=account, address=address, settings=settings, now=now
    ):
        raise AddressThrottled(retry_after=wait)


async def _signed_in_from(
    session: AsyncSession, *, account: str, address: str, settings: GatewaySettings, now: datetime
) -> bool:
    since = now - timedelta(days=settings.login_known_address_days)
    found = await session.scalar(
        select(LoginAttempt.id)
        .where(
            LoginAttempt.account == account,
            LoginAttempt.client_address == address,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.attempted_at > since,
        )
        .limit(1)
    )
    return found is not None


async def account_throttle(
    session: AsyncSession, *, account: str, settings: GatewaySettings, now: datetime
) -> int:
    """After a WRONG credential (already recorded): the seconds a client should wait before trying this
    account again, from anywhere (0: answer the plain 401)."""
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    count, _ = await _failures_since_success(
        session, [LoginAttempt.account == account_key(account)], since=window_start
    )
    return delay_seconds(count, free=settings.login_max_failures_per_account, settings=settings)


def raise_for_account(wait: int) -> None:
    if wait:
        raise AccountThrottled(retry_after=wait)


def record(
    session: AsyncSession,
    *,
    account: str,
    address: str,
    grant_type: str,
    succeeded: bool,
    reason: str | None = None,
    now: datetime,
) -> None:
    session.add(
        LoginAttempt(
            attempted_at=now,
            account=account_key(account),
            client_address=address_key(address),
            grant_type=grant_type,
            succeeded=succeeded,
            reason=reason,
        )
    )
