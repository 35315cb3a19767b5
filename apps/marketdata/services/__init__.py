"""Writes of the market data domain (see the modules of this package)."""
