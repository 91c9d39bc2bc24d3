"""Date and time arithmetic that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.sql.elements import ColumnElement


def days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    """``later - earlier`` in days, for DATE expressions."""
    if dialect == "postgresql":
        return cast(later - earlier, Float)
    return func.julianday(later) - func.julianday(earlier)


def minutes_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """``later - earlier`` in minutes, for UTC timestamp expressions."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float) / 60.0
    return (func.julianday(later) - func.julianday(earlier)) * 1440.0
