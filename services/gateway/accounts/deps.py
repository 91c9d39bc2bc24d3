from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.gateway.clients.registry import RegistryClient


async def registry_client(request: Request) -> RegistryClient:
    client: RegistryClient = request.app.state.registry
    return client


RegistryDep = Annotated[RegistryClient, Depends(registry_client)]
