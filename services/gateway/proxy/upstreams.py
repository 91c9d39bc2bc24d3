"""Where each service's requests go: its base URL, what carries them and their timeouts.

The proxy's requests go through its own keep-alive pool (:mod:`.pool`), or through a test's mounted
httpx transport (``upstream_mounts``: an ASGI app in-process), handed to it without httpx's client layer
(auth and redirect flows, a cookie jar that kept the upstreams' ``Set-Cookie`` and sent them on with
later requests of other callers). Proxy variables of the environment (``HTTP_PROXY``) are not applied:
the services are reached directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from services.gateway.proxy.pool import LeanPool, Target


@dataclass(frozen=True, slots=True)
class Upstream:
    base_url: str
    # the proxy's pool, or a test's mounted transport
    transport: LeanPool | httpx.AsyncBaseTransport
    # connect, read, write and pool timeouts (httpx's ``timeout`` request extension)
    timeout: Mapping[str, float | None]
    # host, port, Host header and path prefix of ``base_url`` (for the pool)
    target: Target | None


def upstreams(
    urls: Mapping[str, str],
    *,
    pool: LeanPool,
    timeout: httpx.Timeout,
    mounts: Mapping[str, httpx.AsyncBaseTransport],
) -> dict[str, Upstream]:
    """Each service's :class:`Upstream`; a service whose URL has the host and port of a mount's URL is
    reached through that mount."""
    mounted = {httpx.URL(url).netloc: mount for url, mount in mounts.items()}
    result: dict[str, Upstream] = {}
    for service, url in urls.items():
        mount = mounted.get(httpx.URL(url).netloc)
        result[service] = Upstream(
            base_url=url,
            transport=mount if mount is not None else pool,
            timeout=timeout.as_dict(),
            target=None if mount is not None else Target.of(url),
        )
    return result
