"""Sources: readers of every official format, tag matching, the catalogue, downloads and fetch.

Each reader returns plain (Geo)DataFrames or raises a clear error. A sibling of ``engine``:
neither imports the other.
"""
