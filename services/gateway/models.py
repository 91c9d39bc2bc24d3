"""Imports every model module so that ``Base.metadata`` holds all the gateway service's tables."""

from __future__ import annotations

from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.tokens.models import LoginAttempt, RefreshToken

__all__ = ["ApiClient", "LoginAttempt", "RefreshToken", "User"]
