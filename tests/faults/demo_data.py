"""Load the demo data of the named services in one process:

    python -m tests.faults.demo_data registry gateway homecare

what ``deploy/local/run.py`` does with ``python -m demo.<name>``, one process per service, done in
one process to spare the start-ups (each seed is idempotent and reads only its own settings from the
environment; the services' tables must exist: start the services first, they migrate on start)."""

from __future__ import annotations

import asyncio
import importlib
import sys


async def load(names: list[str]) -> None:
    for name in names:
        seed = importlib.import_module(f"demo.{name}")
        settings = getattr(seed, f"{name.capitalize()}Settings")
        await seed.seed(settings())


if __name__ == "__main__":
    asyncio.run(load(sys.argv[1:]))
