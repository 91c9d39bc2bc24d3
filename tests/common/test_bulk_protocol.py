"""The bulk protocol's own rules (libs/common/bulk.py), before any service plugs its rule in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import BaseModel, Field

from libs.common.bulk import BatchTooLarge, BulkOutcome, BulkRecord, open_batch
from libs.common.errors import Conflict, FieldError


class Thing(BaseModel):
    name: str = Field(min_length=2)


def test_a_batch_over_the_limit_is_refused_whole() -> None:
    records = [{"external_id": str(i), "name": "ab"} for i in range(3)]
    assert len(open_batch("s", records, max_records=3).records) == 3
    with pytest.raises(BatchTooLarge) as raised:
        open_batch("s", [*records, {"external_id": "x"}], max_records=3)
    assert raised.value.status == 422
    assert raised.value.code == "batch_too_large"


@pytest.mark.parametrize("external_id", [None, "", "   ", 7, "x" * 101, "a\nb"])
def test_a_record_without_a_usable_external_id_is_rejected_alone(external_id: Any) -> None:
    batch = open_batch("s", [{"external_id": external_id}, {"external_id": "ok"}], max_records=10)
    bad, good = batch.records
    assert bad.outcome is BulkOutcome.rejected
    assert bad.code == "invalid_external_id"
    assert bad.external_id is None
    assert good.outcome is None


def test_the_second_record_with_a_key_of_the_batch_is_rejected() -> None:
    batch = open_batch(
        "s", [{"external_id": " a "}, {"external_id": "a"}, {"external_id": "b"}], max_records=9
    )
    first, second, third = batch.records
    assert first.external_id == "a"
    assert first.outcome is None
    assert second.code == "duplicate_in_batch"
    assert third.outcome is None


def test_schema_errors_and_rule_errors_reject_only_their_record() -> None:
    batch = open_batch(
        "s",
        [
            {"external_id": "1", "name": "x"},
            {"external_id": "2", "name": "taken"},
            {"external_id": "3", "name": "ok"},
        ],
        max_records=9,
    )
    batch.validate(Thing)

    def rule(record: BulkRecord[Any]) -> None:
        assert record.data is not None
        if record.data.name == "taken":
            raise Conflict(
                "名称已被占用",
                code="name_taken",
                errors=[FieldError(field="name", message="占用", code="taken")],
            )

    batch.check(rule)
    for record in batch.pending():
        record.written(BulkOutcome.created, id=uuid.uuid4(), version=1)
    answer = batch.response()
    assert [r.outcome for r in answer.results] == ["rejected", "rejected", "created"]
    assert answer.results[0].code == "validation_failed"
    assert answer.results[0].errors[0].field == "records.0.name"
    assert (answer.results[1].code, answer.results[1].errors[0].code) == ("name_taken", "taken")
    assert answer.results[2].version == 1
    assert answer.results[2].id is not None
    assert answer.counts.model_dump() == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}


def test_a_record_left_without_an_outcome_is_not_reported_as_written() -> None:
    batch = open_batch("s", [{"external_id": "1"}], max_records=9)
    batch.check(lambda record: None)  # passes the rule, but nothing is written
    answer = batch.response()
    assert answer.results[0].outcome == "rejected"
    assert answer.counts.rejected == 1
