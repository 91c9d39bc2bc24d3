"""Time for the contracts service: the platform clock (:mod:`libs.common.clock`).

The clock lives on ``app.state.clock`` so that tests can move "today" across a date boundary
(:class:`ManualClock`) instead of sleeping.
"""

from __future__ import annotations

from libs.common.clock import CHINA_TZ, Clock, ClockDep, ManualClock, china_date, get_clock

__all__ = ["CHINA_TZ", "Clock", "ClockDep", "ManualClock", "china_date", "get_clock"]
