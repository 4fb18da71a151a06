"""Readers of the official sources; each returns plain (Geo)DataFrames or raises a clear error."""
