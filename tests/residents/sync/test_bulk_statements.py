"""The residents' bulk paths are set-based (issue 19): a batch of persons, of check-ups opening the
year's records or of contracts of persons without one in force costs the same statements for 10 records
as for 1,000 — one SELECT of the persons by blind index (and of the year's records, contracts in force and
serving links), then one INSERT each of the rows, the check-ups' parts, the serving links, the feed
entries and the audit records (``libs/common/bulk_insert``) — and gives the single write's outcomes: a
record merging into a year's record opened by an earlier record of the batch goes through
``checkups.service.record`` (``updated``), a part given twice counts once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.residents.assessments.scores import scores_totalling
from tests.residents.signings.flows import practice
from tests.residents.sync.test_bulk import (
    ASSESSMENTS_BULK,
    CHECKUPS_BULK,
    PARTS,
    PERSONS_BULK,
    SIGNINGS_BULK,
    YEAR,
    outcomes,
    parts,
    person,
)
from tests.residents.world import HULI, RES, World, id_number


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.database.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def checkup(external_id: str, institution_id: Any, number: str, codes: list[str]) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "institution_id": str(institution_id),
        "id_number": number,
        "parts": parts(codes),
    }


async def test_the_statements_of_a_batch_do_not_grow_with_its_size(
    world: World, residents_app: FastAPI
) -> None:
    p = await practice(world)
    center = p.inst
    persons_counted: dict[int, list[str]] = {}
    checkups_counted: dict[int, list[str]] = {}
    signings_counted: dict[int, list[str]] = {}
    assessments_counted: dict[int, list[str]] = {}
    for size in (10, 1000):
        numbers = [id_number(HULI) for _ in range(size)]
        records = [person(f"S{size}-{i}", number) for i, number in enumerate(numbers)]
        with counted_statements(residents_app) as statements:
            answer = await world.client.post(
                PERSONS_BULK,
                json={"source_system": "xm-ijiankang", "records": records},
                headers=world.platform(),
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["counts"]["created"] == size
        persons_counted[size] = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
        batch = [checkup(f"T{size}-{i}", center.id, n, PARTS) for i, n in enumerate(numbers)]
        with counted_statements(residents_app) as statements:
            answer = await world.client.post(
                CHECKUPS_BULK,
                json={"source_system": "xm-ijiankang", "records": batch},
                headers=world.platform(),
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["counts"]["created"] == size
        checkups_counted[size] = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
        contracts = [
            {
                "external_id": f"QY{size}-{i}",
                "team_id": p.team["id"],
                "id_number": n,
                "package_ids": [p.basic["id"]],
                "start_date": date(YEAR, 3, 1).isoformat(),
            }
            for i, n in enumerate(numbers)
        ]
        with counted_statements(residents_app) as statements:
            answer = await world.client.post(
                SIGNINGS_BULK,
                json={"source_system": "xm-ijiankang", "records": contracts},
                headers=world.platform(),
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["counts"]["created"] == size
        signings_counted[size] = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
        assessed = [
            {
                "external_id": f"PG{size}-{i}",
                "institution_id": str(center.id),
                "id_number": n,
                "assessed_date": date(YEAR, 5, 1).isoformat(),
                "scores": scores_totalling(55),
            }
            for i, n in enumerate(numbers)
        ]
        with counted_statements(residents_app) as statements:
            answer = await world.client.post(
                ASSESSMENTS_BULK,
                json={"source_system": "xm-ijiankang", "records": assessed},
                headers=world.platform(),
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["counts"]["created"] == size
        assessments_counted[size] = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
    assert persons_counted[10] == persons_counted[1000], persons_counted
    assert persons_counted[1000].count("INSERT") == 3  # persons, feed entries, audit records
    assert checkups_counted[10] == checkups_counted[1000], checkups_counted
    # check-ups, their parts, serving links, feed entries, audit records
    assert checkups_counted[1000].count("INSERT") == 5
    assert signings_counted[10] == signings_counted[1000], signings_counted
    # contracts, feed entries, audit records (the checked-up persons are linked already)
    assert signings_counted[1000].count("INSERT") == 3
    assert assessments_counted[10] == assessments_counted[1000], assessments_counted
    assert assessments_counted[1000].count("INSERT") == 3  # assessments, feed entries, audit records
    replayed = await world.client.post(
        ASSESSMENTS_BULK,
        json={"source_system": "xm-ijiankang", "records": assessed},
        headers=world.platform(),
    )
    assert replayed.json()["counts"]["unchanged"] == 1000
    again = await world.client.post(
        SIGNINGS_BULK, json={"source_system": "xm-ijiankang", "records": contracts}, headers=world.platform()
    )
    assert again.json()["counts"]["unchanged"] == 1000

    replay = await world.client.post(
        PERSONS_BULK, json={"source_system": "xm-ijiankang", "records": records}, headers=world.platform()
    )
    assert replay.json()["counts"]["unchanged"] == 1000


async def test_a_batch_gives_the_single_write_s_outcomes(world: World) -> None:
    center = await world.primary_care()
    number = id_number(HULI, birth=date(1950, 5, 1))
    other = id_number(HULI, birth=date(1950, 5, 2))
    registered = await world.client.post(
        PERSONS_BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [
                person("Q-1", number),
                person("Q-2", number),  # the same ID number again: the person just registered
                person("Q-3", other),
                person("Q-4", other, name="林阿公"),  # named otherwise: 409's code, name not revealed
                person("Q-5", id_number(HULI, birth=date(1950, 5, 3)), birth_date="1950-05-04"),
            ],
        },
        headers=world.platform(),
    )
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert outcomes(body)[:3] == [("created", None), ("unchanged", None), ("created", None)]
    assert body["results"][1]["id"] == body["results"][0]["id"]
    assert body["results"][3]["outcome"] == "rejected"
    assert body["results"][3]["code"] == "person_identity_mismatch"
    assert body["results"][4]["outcome"] == "rejected"
    assert body["results"][4]["code"] == "birth_date_mismatch"

    twice = [*parts(PARTS[:2]), *parts(PARTS[:1], date(YEAR, 4, 9))]
    answer = await world.client.post(
        CHECKUPS_BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [
                {**checkup("U-1", center.id, number, PARTS[:2]), "parts": twice},
                checkup("U-2", center.id, number, PARTS[2:]),  # the year's record just opened: merged
            ],
        },
        headers=world.platform(),
    )
    assert answer.status_code == 200, answer.text
    assert outcomes(answer.json()) == [("created", None), ("updated", None)]
    first, second = answer.json()["results"]
    assert second["id"] == first["id"]
    read = await world.client.get(f"{RES}/checkups/{first['id']}", headers=world.admin(center))
    assert read.status_code == 200, read.text
    assert read.json()["standard"] is True
    assert read.json()["parts_done"] == PARTS
