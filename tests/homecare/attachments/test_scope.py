"""The attachments' by-id endpoints in the shared scope walk (tests/scope_matrix.OUTSIDERS): an attachment of
a 湖里 visit record, and a 湖里 nurse's resumable upload, are 404 to every outsider whose role may call the
endpoint at all (another county, another city, another city's platform, another institution's users).

PUT /attachments/{sha256} is left out of the walk: it names content, not a record — whoever holds the bytes
may upload them (content-addressed, stored once), and holding them grants nothing: reading still needs a
record the caller may see (test_attachments)."""

from __future__ import annotations

import pytest

from tests.homecare.attachments.test_attachments import JPEG, _recorded, fresh, problem, sha
from tests.homecare.attachments.test_resumable import begin
from tests.homecare.test_access_matrix import MATRIX
from tests.homecare.world import HC, World, crew
from tests.scope_matrix import OUTSIDERS, outsider_headers

#: the by-id operations this module walks (tests/homecare/test_scope_by_id.py counts them as covered)
WALKED: set[tuple[str, str]] = {
    ("GET", "/attachments/{sha256}"),
    ("GET", "/attachments/uploads/{upload_id}"),
    ("PATCH", "/attachments/uploads/{upload_id}"),
}
#: named by content, not a record (see the module's docstring)
NOT_A_RECORD: set[tuple[str, str]] = {("PUT", "/attachments/{sha256}")}


def _outsiders(world: World, method: str, path: str) -> list[tuple[str, dict[str, str]]]:
    """(label, headers) of each outsider whose role may call the endpoint at all."""
    allowed = MATRIX[(method, HC + path)]
    return [
        (label, outsider_headers(world.tokens, role, region))
        for label, role, region in OUTSIDERS
        if allowed[role]
    ]


async def test_a_recorded_attachment_is_out_of_reach_of_outsiders(world: World) -> None:
    _, photo, _ = await _recorded(world, await crew(world))
    outsiders = _outsiders(world, "GET", "/attachments/{sha256}")
    assert outsiders
    for label, headers in outsiders:
        response = await world.client.get(f"{HC}/attachments/{sha(photo)}", headers=headers)
        problem(response, 404, "attachment_not_found")
        assert response.content != photo, label


@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_an_upload_in_progress_is_out_of_reach_of_outsiders(world: World, method: str) -> None:
    c = await crew(world)
    data = fresh(JPEG)
    upload_id = (await begin(world, world.staff(c.provider, c.nurse), data)).json()["upload_id"]
    outsiders = _outsiders(world, method, "/attachments/uploads/{upload_id}")
    assert outsiders
    for _label, headers in outsiders:
        extra = {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"} if method == "PATCH" else {}
        response = await world.client.request(
            method,
            f"{HC}/attachments/uploads/{upload_id}",
            content=data if method == "PATCH" else None,
            headers={**headers, **extra},
        )
        problem(response, 404, "attachment_upload_not_found")
