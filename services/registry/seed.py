"""Demo data of the registry: a believable province (filled in below)."""

from __future__ import annotations

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(first17: str) -> str:
    """Append the GB 32100 check character to 17 characters."""
    values = {ch: i for i, ch in enumerate(_USCC_CHARSET)}
    total = sum(values[ch] * pow(3, i, 31) for i, ch in enumerate(first17))
    return first17 + _USCC_CHARSET[(31 - total % 31) % 31]
