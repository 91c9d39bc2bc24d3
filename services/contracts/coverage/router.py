from __future__ import annotations

from libs.common.routing import ServiceRouter

router = ServiceRouter(prefix="/api/v1/contracts", tags=["coverage"])
