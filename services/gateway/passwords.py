"""Password and client-secret hashing with argon2id.

Hashing and verification are deliberately CPU- and memory-heavy; they run in a worker thread
(:func:`asyncio.to_thread`) so that the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that unknown and known usernames take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_sync(secret: str) -> str:
    return _hasher.hash(secret)


async def hash_(secret: str) -> str:
    return await asyncio.to_thread(_hasher.hash, secret)


def _verify(stored_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches; with ``stored_hash=None`` it spends the same time and answers False."""
    return await asyncio.to_thread(_verify, stored_hash, secret)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"), re.compile(r"[^A-Za-z0-9]"))


def weakness(password: str, *, username: str, min_length: int) -> str | None:
    """Why ``password`` is too weak, or None."""
    if len(password) < min_length:
        return f"密码至少 {min_length} 位"
    if sum(1 for pattern in _CLASSES if pattern.search(password)) < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类"
    if username.lower() in password.lower():
        return "密码不能包含用户名"
    return None
