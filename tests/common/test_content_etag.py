"""A representation's strong ETag (a hash of its bytes) and If-None-Match (weak comparison, ``*``)."""

from __future__ import annotations

from libs.common.concurrency import content_etag, none_match


def test_the_tag_is_strong_and_follows_the_bytes() -> None:
    tag = content_etag(b'{"a":1}')
    assert tag.startswith('"')
    assert tag.endswith('"')
    assert tag == content_etag(b'{"a":1}')
    assert tag != content_etag(b'{"a":2}')


def test_if_none_match_names_the_tag_in_a_list_weakly_or_by_star() -> None:
    tag = content_etag(b"x")
    assert none_match(tag, tag)
    assert none_match(f'"other", {tag}', tag)
    assert none_match(f"W/{tag}", tag)
    assert none_match("*", tag)
    assert not none_match(None, tag)
    assert not none_match("", tag)
    assert not none_match('"other"', tag)
