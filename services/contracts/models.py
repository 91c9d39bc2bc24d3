"""Imports every model module so that ``Base.metadata`` holds all the contracts service's tables."""
