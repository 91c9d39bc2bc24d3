from __future__ import annotations

import json
import logging

import pytest

from libs.common import divisions
from libs.common.divisions import RegionScope
from libs.common.logs import JsonFormatter


def test_division_list_has_the_province_ten_city_units_and_84_counties() -> None:
    levels = [d.level for d in divisions.all_divisions()]
    assert levels.count(divisions.DivisionLevel.province) == 1
    assert levels.count(divisions.DivisionLevel.county) == 84
    assert {d.code for d in divisions.city_units()} == {
        "350100", "350200", "350300", "350400", "350500", "350600", "350700", "350800", "350900", "350128"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "prefix", "inside", "outside"),
    [
        ("350000", "35", ["350206", "350128"], ["110105"]),
        ("350200", "3502", ["350206"], ["350102"]),
        ("350100", "3501", ["350102", "350181"], ["350128", "350206"]),
        ("350128", "350128", ["350128"], ["350102"]),
        ("350206", "350206", ["350206"], ["350203"]),
    ],
)
def test_region_scope(code: str, prefix: str, inside: list[str], outside: list[str]) -> None:
    scope = RegionScope.for_region(code)
    assert scope.prefix == prefix
    assert all(scope.contains(c) for c in inside)
    assert not any(scope.contains(c) for c in outside)


def test_unknown_region_code_is_refused() -> None:
    with pytest.raises(ValueError, match="未知"):
        RegionScope.for_region("359999")


def test_city_unit_of_county_and_pingtan() -> None:
    assert divisions.city_unit_of("350206") == "350200"
    assert divisions.city_unit_of("350128") == "350128"
    assert divisions.city_unit_of("350102") == "350100"
    assert "350128" not in {d.code for d in divisions.counties_of("350100")}


def test_json_log_lines_never_hold_whole_id_numbers_or_phones() -> None:
    formatter = JsonFormatter("test")
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "resident %s called from %s",
        ("11010519491231002X", "13812345678"),
        None,
    )
    record.address_note = "id 360426199101010071"
    line = formatter.format(record)
    payload = json.loads(line)
    assert "11010519491231002X" not in line
    assert "13812345678" not in line
    assert "360426199101010071" not in line
    assert payload["service"] == "test"
    assert payload["msg"].startswith("resident 110105")
