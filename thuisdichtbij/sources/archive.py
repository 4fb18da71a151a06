"""Members of the zips publishers serve, found by pattern (names change between releases)."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .._text import short_list
from ..errors import InputError

__all__ = ["find_member", "extract_member"]


def find_member(path: str | os.PathLike, patterns: Sequence[str], *, what: str) -> str:
    """The zip member whose file name matches the first pattern that matches one.

    Patterns are shell-style (``*scores buurt*.csv``), matched case-insensitively against
    the member's name without its folder (the Leefbaarometer zips put everything in a folder
    named after the release). Raises naming the zip, the patterns and the members found.
    """
    p = Path(path)
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    if not zipfile.is_zipfile(p):
        raise InputError(f"{what}: {p.name} is not a zip archive; expected one holding {patterns}")
    with zipfile.ZipFile(p) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
    for pattern in patterns:
        hits = [
            n
            for n in names
            if fnmatch.fnmatch(PurePosixPath(n).name.casefold(), pattern.casefold())
        ]
        if len(hits) > 1:
            raise InputError(
                f"{what}: several members of {p.name} match {pattern!r}: {short_list(hits)}; "
                "give a narrower pattern in the catalogue"
            )
        if hits:
            return hits[0]
    raise InputError(
        f"{what}: no member of {p.name} matches {' or '.join(repr(x) for x in patterns)}; "
        f"its members are {short_list(names) if names else 'none'}. The publisher may have "
        "renamed it: give the new name in a --catalogue file"
    )


def extract_member(
    path: str | os.PathLike, patterns: Sequence[str], dst: str | os.PathLike, *, what: str
) -> Path:
    """Copy the member :func:`find_member` picks to ``dst`` (atomically); returns ``dst``."""
    name = find_member(path, patterns, what=what)
    out = Path(dst)
    tmp = out.with_name(f".{out.name}.part")
    with zipfile.ZipFile(path) as z, z.open(name) as src, open(tmp, "wb") as f:
        while chunk := src.read(1 << 20):
            f.write(chunk)
    os.replace(tmp, out)
    return out
