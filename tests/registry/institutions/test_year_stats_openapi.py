"""The year-stats PUT declares both answers it gives: 201 for a year's first filing, 200 for an update."""

from __future__ import annotations

from tests.openapi.document import operations, service_document


def test_put_year_stat_declares_201_for_the_first_filing_and_200_for_an_update() -> None:
    _, _, operation = operations(service_document("registry"))["registry_put_year_stat"]
    responses = operation["responses"]
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/YearStatRead"}, status
