"""Where each service's requests go: its base URL, the transport that carries them and their timeouts.

The proxy hands its requests to the transport itself (a pooled ``httpx.AsyncHTTPTransport``, or a test's
mounted one): the client layer above it added ~0.2 ms of CPU a request (auth and redirect flows, a
cookie jar) and nothing the proxy wants — its cookie jar even kept the upstreams' ``Set-Cookie`` and
sent them on with later requests of other callers. Proxy variables of the environment (``HTTP_PROXY``)
are not applied: the services are reached directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Upstream:
    base_url: str
    transport: httpx.AsyncBaseTransport
    # httpx's ``timeout`` request extension (connect, read, write, pool)
    timeout: Mapping[str, float | None]


def upstreams(
    urls: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport,
    timeout: httpx.Timeout,
    mounts: Mapping[str, httpx.AsyncBaseTransport],
) -> dict[str, Upstream]:
    """Each service's :class:`Upstream`; a service whose URL has the host and port of a mount's URL is
    reached through that mount."""
    mounted = {httpx.URL(url).netloc: mount for url, mount in mounts.items()}
    return {
        service: Upstream(
            base_url=url,
            transport=mounted.get(httpx.URL(url).netloc, transport),
            timeout=timeout.as_dict(),
        )
        for service, url in urls.items()
    }
