"""Column types shared by the homecare models."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


def str_enum(enum_type: type[StrEnum], length: int = 30) -> Enum:
    """A StrEnum stored as its value in a VARCHAR (no database enum type), read back as the enum."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
