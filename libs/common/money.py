"""Amounts of money a client may send (fees, prices), in yuan.

The range and precision stay at the field (``Field(ge=0, le=10000, decimal_places=2)``); :data:`Amount`
adds what ``ge=0`` lets through: ``-0`` (and ``-0.00``), which would be stored and shown signed, is
read as ``0``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator


def unsigned_zero(value: Decimal) -> Decimal:
    """``value``, with a negative zero made plain zero of the same exponent."""
    return value.copy_abs() if value.is_zero() else value


Amount = Annotated[Decimal, AfterValidator(unsigned_zero)]
