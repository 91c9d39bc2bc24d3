"""Imports every model module so that ``Base.metadata`` holds all the gateway service's tables."""
