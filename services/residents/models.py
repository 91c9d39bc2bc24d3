"""Imports every model module so that ``Base.metadata`` holds all the residents service's tables."""

from services.residents import feed  # noqa: F401  (each tracked model's feed payload declaration)
from services.residents.persons import models as persons  # noqa: F401
