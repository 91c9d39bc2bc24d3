from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI

from libs.common.clock import ManualClock

TODAY = date(2026, 3, 16)


@pytest.fixture
def clock(residents_app: FastAPI) -> Iterator[ManualClock]:
    """The residents app's "today" (the signing routes read ``app.state.clock``), moved by the test."""
    previous = getattr(residents_app.state, "clock", None)
    manual = ManualClock(datetime(2026, 3, 16, 1, 0, tzinfo=UTC))
    manual.set_today(TODAY)
    residents_app.state.clock = manual
    yield manual
    if previous is None:
        del residents_app.state.clock
    else:
        residents_app.state.clock = previous
