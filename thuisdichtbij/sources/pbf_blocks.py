"""The blocks of an ``.osm.pbf`` file, walked by their headers only.

A PBF is a run of self-contained blocks (the OSM wiki's "PBF Format": a 4-byte length, a
``BlobHeader`` message of that length, then the blob it announces); the first holds the
file's header. Walking the headers tells a download cut short (:func:`check_pbf_complete`)
and lists the blocks, which :func:`pbf_runs` cuts into runs for processes to read apart
(:func:`thuisdichtbij.sources.osm.read_run`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["check_pbf_complete", "pbf_blocks", "pbf_runs"]


def _damaged(p: Path, why: str) -> InputError:
    return InputError(
        f"OSM extract: {p} is damaged or incomplete ({why}); a download that broke off "
        "leaves such a file: download it again"
    )


def check_pbf_complete(p: Path) -> None:
    """Raise when the ``.osm.pbf`` is cut short (see :func:`pbf_blocks`)."""
    pbf_blocks(p)


def pbf_blocks(p: Path) -> list[tuple[int, int]]:
    """The blocks of an ``.osm.pbf`` as ``(offset, size)``, walked by their headers only.

    A PBF is a run of blocks: a 4-byte length, a ``BlobHeader`` message of that length
    whose field 3 is the size of the blob that follows. A truncated download ends inside a
    block (raised); a valid file ends exactly after its last blob. The first block is the
    file's header.
    """
    size = p.stat().st_size
    blocks = []
    with open(p, "rb") as f:
        pos = 0
        while pos < size:
            head = f.read(4)
            n = int.from_bytes(head, "big") if len(head) == 4 else -1
            if n <= 0 or n > 64 * 1024 or pos + 4 + n > size:
                raise _damaged(p, f"a block header at byte {pos} runs past the end")
            datasize = _blob_size(f.read(n))
            if datasize is None:
                raise _damaged(p, f"the block header at byte {pos} is not readable")
            blocks.append((pos, 4 + n + datasize))
            pos += 4 + n + datasize
            if pos > size:
                raise _damaged(p, f"the file ends {pos - size} bytes short of its last block")
            f.seek(pos)
    return blocks


def _blob_size(header: bytes) -> int | None:
    """Field 3 (``datasize``, a varint) of a protobuf ``BlobHeader``; ``None`` if absent."""
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            if i >= len(header) or shift > 63:
                raise ValueError("varint runs off the end")
            b = header[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    try:
        while i < len(header):
            key = varint()
            field, wire = key >> 3, key & 7
            if wire == 0:
                value = varint()
                if field == 3:
                    return value
            elif wire == 2:
                length = varint()  # read before i moves on: not ``i += varint()``
                i += length
            else:
                return None
    except ValueError:
        return None
    return None


def pbf_runs(path: str | os.PathLike, n: int):
    """The header block, and the data blocks in at most ``n`` runs of about equal size.

    Returns ``(header, runs)``: ``(offset, size)`` of the header block, and the runs in
    file order, each a list of ``(offset, size)``.
    """
    header, *blocks = pbf_blocks(Path(path))
    sizes = np.cumsum([size for _, size in blocks])
    cut = np.searchsorted(sizes, sizes[-1] * np.arange(1, n) / n) if len(blocks) else []
    runs = np.split(np.arange(len(blocks)), np.unique(cut))
    return header, [[blocks[i] for i in run] for run in runs if len(run)]
