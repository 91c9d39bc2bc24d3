"""Column types of the contracts service's models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def str_enum(enum: type[StrEnum], length: int = 30) -> Enum:
    """A ``VARCHAR`` holding an enum's values, read back as enum members (no database enum type)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
