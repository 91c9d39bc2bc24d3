"""The response cache's bounds and keys (libs/common/response_cache.py); its use by a list, with the
database and every write path, is tested with the registry
(tests/registry/institutions/test_list_cache.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from libs.common.auth import Principal, Role
from libs.common.pagination import PageParams
from libs.common.response_cache import CachedPage, ResponseCache, caller_view, key_of


def page(version: int, size: int = 10) -> CachedPage:
    return CachedPage(version, b"x" * size, f'"{version}"')


def test_a_page_is_served_for_its_version_only() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=1000)
    cache.put("k", page(3))
    assert cache.get("k", 3) == page(3)
    assert cache.get("k", 4) is None
    assert cache.get("other", 3) is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_a_key_keeps_one_version() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=1000)
    cache.put("k", page(3, 100))
    cache.put("k", page(4, 30))
    assert len(cache) == 1
    assert cache.bytes == 30
    assert cache.get("k", 3) is None
    assert cache.get("k", 4) == page(4, 30)


def test_entries_are_bounded_least_recently_used_out() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=1000)
    cache.put("a", page(1))
    cache.put("b", page(1))
    assert cache.get("a", 1) is not None  # a is now the more recent
    cache.put("c", page(1))
    assert [cache.get(k, 1) is not None for k in ("a", "b", "c")] == [True, False, True]
    assert cache.evictions == 1


def test_bytes_are_bounded_and_a_page_over_the_budget_is_not_kept() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=100)
    cache.put("a", page(1, 40))
    cache.put("b", page(1, 40))
    cache.put("c", page(1, 40))
    assert len(cache) == 2
    assert cache.bytes == 80
    assert cache.get("a", 1) is None
    cache.put("huge", page(1, 101))
    assert cache.get("huge", 1) is None
    assert cache.bytes == 80


def test_off_or_zero_bounds_keep_nothing() -> None:
    for cache in (
        ResponseCache(max_entries=10, max_bytes=1000, enabled=False),
        ResponseCache(max_entries=0, max_bytes=1000),
        ResponseCache(max_entries=10, max_bytes=0),
    ):
        assert not cache.enabled
        cache.put("k", page(1))
        assert len(cache) == 0


def test_the_view_is_role_and_scope_not_who_nor_which_token() -> None:
    institution = uuid.uuid4()
    one = Principal(sub="a", role=Role.county_admin, region_code="350206", jti="1")
    two = Principal(sub="b", role=Role.county_admin, region_code="350206", jti="2")
    assert caller_view(one) == caller_view(two)
    moved = Principal(sub="a", role=Role.county_admin, region_code="350203", jti="3")
    promoted = Principal(sub="a", role=Role.city_admin, region_code="350206")
    staff = Principal(sub="a", role=Role.institution_admin, region_code="350206", institution_id=institution)
    other = Principal(sub="a", role=Role.institution_admin, region_code="350206", institution_id=uuid.uuid4())
    views = {caller_view(p) for p in (one, moved, promoted, staff, other)}
    assert len(views) == 5


@dataclass(frozen=True)
class Filter:
    kinds: tuple[str, ...] = ()
    flags: dict[str, bool] = field(default_factory=dict)
    since: date | None = None


def test_keys_normalise_parameters() -> None:
    params = PageParams(limit=50, cursor=None)
    assert key_of("list", params, Filter(flags={"a": True, "b": False})) == key_of(
        "list", PageParams(limit=50, cursor=None), Filter(flags={"b": False, "a": True})
    )
    assert key_of("list", params, Filter()) != key_of("list", PageParams(limit=49, cursor=None), Filter())
    assert key_of("list", params, Filter(since=date(2020, 1, 1))) != key_of("list", params, Filter())
    assert key_of("list", params, Filter(kinds=("a",))) != key_of("other", params, Filter(kinds=("a",)))
    hash(key_of("list", params, Filter(flags={"a": True})))
