"""The end-to-end platform of tests/e2e (the four real processes), for the generated-client test.

Re-exported here because fixtures are visible only below their conftest; a session that runs both
folders starts the platform once for each (moving ``platform`` to tests/conftest.py would share it).
"""

from __future__ import annotations

from tests.e2e.conftest import platform

__all__ = ["platform"]
