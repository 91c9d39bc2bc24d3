"""Reference data the province loads: resident population per county and year, and the targets."""
