"""The version of the reports' data: one row, its counter moved by triggers (``reports/version.py``)."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from services.indicators.base import Base


class ReportDataVersion(Base):
    """One row (``id`` 1): ``counter`` goes up with every write of a table the reports read, in the
    writing transaction (migration ``indicators_0009``'s triggers; nothing else writes it)."""

    __tablename__ = "report_data_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
