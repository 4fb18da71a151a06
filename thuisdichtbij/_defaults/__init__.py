"""Shipped defaults: config/ and indicators/ of the repository, mapped here when installed."""
