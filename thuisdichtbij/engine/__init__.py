"""The engine: walking network, snapping, distances, scores, aggregation, tiles, network cache.

It takes plain frames and arrays and never sees a study, a path or a map. A sibling of
``sources``: neither imports the other.
"""
