"""CivicGrid: one platform for every problem a city hears about (市域社会治理)."""

__version__ = "0.1.0"
