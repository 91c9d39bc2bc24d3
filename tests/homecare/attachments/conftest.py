from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from services.homecare.attachments.storage import FileSystemStore


@pytest.fixture(scope="module", autouse=True)
def attachment_store(homecare_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The app's attachment files go to a directory of this module's own."""
    root = tmp_path_factory.mktemp("attachments")
    homecare_app.state.attachment_store = FileSystemStore(root)
    yield root
    del homecare_app.state.attachment_store
