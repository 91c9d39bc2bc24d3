"""Schemathesis over the merged OpenAPI document, through the gateway, as a province and a county user.

The four real processes (tests/e2e/conftest.py, demo data) are fuzzed by tests/e2e/api_fuzzing.py with
a bounded, deterministic budget (fixed seed, derandomized generation, a few examples per operation and
a time cap per role), so that CI runs it on SQLite and PostgreSQL without flaking. It fails on any 5xx,
any error that is not problem+json, and any answer the document does not declare (status, media type,
schema), and prints what it sent. This module runs after the other e2e flows (file order): the data it
writes as the two users does not disturb them.
"""

from __future__ import annotations

import pytest

from tests.e2e.api_fuzzing import fuzz, merged_document
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.e2e

#: examples per operation and per generation mode; seconds per role (a cap for slow machines)
MAX_EXAMPLES = 2
MAX_SECONDS_PER_ROLE = 75


@pytest.mark.parametrize("username", ["prov_admin", "huli_admin"])
def test_merged_openapi_holds_under_schemathesis(platform: Platform, username: str) -> None:
    document = merged_document(platform.gateway)
    assert document["x-missing-services"] == []
    report = fuzz(
        platform.gateway,
        username,
        document=document,
        max_examples=MAX_EXAMPLES,
        max_time=MAX_SECONDS_PER_ROLE,
    )
    print(report.summary())
    assert report.requests > 100, report.summary()  # the budget was spent on requests, not refused
    assert not report.errors, report.summary()
    assert not report.failures, report.summary()
