"""The printable agreement: HTML rendered from a template following the national model text's sections.

Jinja2 with autoescape on: every value from the database or the caller is escaped.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from services.contracts.agreements.schemas import AgreementRead
from services.contracts.clock import china_date


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("services.contracts", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )


def render_html(agreement: AgreementRead) -> str:
    signed_on = china_date(agreement.countersigned_at) if agreement.countersigned_at else None
    return _environment().get_template("agreement.html").render(a=agreement, signed_on=signed_on)
