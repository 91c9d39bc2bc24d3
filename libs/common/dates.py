"""Business dates a client may send, in a body or a query string: ISO ``YYYY-MM-DD`` and in range.

pydantic on its own takes ``to=0`` as 1970-01-01 (numbers are read as Unix time) and any year from 1
to 9999 — and a report that adds a day to 9999-12-31 fails with ``OverflowError``. :data:`BusinessDate`
accepts only an ISO calendar date (a ``date`` object from Python code too) between
:data:`EARLIEST_DATE` and :data:`LATEST_DATE`; anything else is a 422 naming the field (error codes
``date_format`` and ``date_out_of_range``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

#: no institution, agreement, order or report of this platform lies outside these
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2100, 12, 31)
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date_only(value: Any) -> Any:
    """Refuse numbers, datetimes and anything but ``YYYY-MM-DD`` text before pydantic reads a date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "日期格式应为 YYYY-MM-DD（date must be YYYY-MM-DD）")


def within_business_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(
            "date_out_of_range",
            "日期应在 {earliest} 至 {latest} 之间（date out of range）",
            {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return value


BusinessDate = Annotated[
    date,
    BeforeValidator(iso_date_only),
    AfterValidator(within_business_range),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def moment_within_business_range(value: datetime) -> datetime:
    within_business_range(value.date())
    return value


#: a timestamp with its offset (an order's window), on a day within the business range
BusinessMoment = Annotated[AwareDatetime, AfterValidator(moment_within_business_range)]
