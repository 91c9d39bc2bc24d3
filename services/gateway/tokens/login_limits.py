"""Login rate limiting, kept in the database so that every gateway replica sees the same counts.

Two sliding windows over ``login_attempt``:
- per account: failures since the account's last successful login (a success resets it);
- per client address: all failures from the address, whatever succeeded in between (so one valid
  account cannot be used to wipe the counter while guessing others' passwords).
Attempts refused by the limiter are not recorded (the lock ends when the window has passed).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.settings import GatewaySettings
from services.gateway.tokens.errors import AccountLocked, AddressThrottled
from services.gateway.tokens.models import LoginAttempt

ACCOUNT_MAX_LENGTH = 120


def account_key(account: str) -> str:
    return account[:ACCOUNT_MAX_LENGTH]


def _retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


async def ensure_allowed(
    session: AsyncSession, *, account: str, address: str, settings: GatewaySettings, now: datetime
) -> None:
    """Raise :class:`AccountLocked` or :class:`AddressThrottled` when the window is full."""
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    account = account_key(account)

    last_success = await session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.account == account,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.attempted_at > since,
        )
    )
    account_since = max(since, last_success) if last_success is not None else since
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                LoginAttempt.account == account,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at > account_since,
            )
        )
    ).one()
    if count >= settings.login_max_failures_per_account:
        raise AccountLocked(retry_after=_retry_after(oldest, window, now))

    count, oldest = (
        await session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                LoginAttempt.client_address == address,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at > since,
            )
        )
    ).one()
    if count >= settings.login_max_failures_per_address:
        raise AddressThrottled(retry_after=_retry_after(oldest, window, now))


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
            client_address=address[:64],
            grant_type=grant_type,
            succeeded=succeeded,
            reason=reason,
        )
    )
