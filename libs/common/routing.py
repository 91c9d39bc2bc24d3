"""The router every service uses, so that every POST honours ``Idempotency-Key``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from libs.common.idempotency import IdempotentRoute


class ServiceRouter(APIRouter):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", IdempotentRoute)
        super().__init__(**kwargs)
