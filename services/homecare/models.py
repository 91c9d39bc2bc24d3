"""Imports every model module so that ``Base.metadata`` holds all the homecare service's tables."""
