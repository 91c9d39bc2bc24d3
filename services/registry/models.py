"""Imports every model module so that ``Base.metadata`` holds all the registry's tables."""

from services.registry.institutions import models as institutions  # noqa: F401
