"""Partitioned scans on Dask give exactly the single-process result."""

import numpy as np
import pytest

from thuisdichtbij import scan
from thuisdichtbij.engine.partition import Tiling, tile_of

from .test_determinism import identical

# a minute or more together: the everyday suite (-m 'not slow') leaves them to CI
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("study", "tile_m"), [("aachen", 1500.0), ("maastricht", 2000.0)])
def test_partitioned_equals_single_process(study, tile_m, data_dir):
    single = scan(study, data_dir=data_dir)
    tiled = scan(study, data_dir=data_dir, tiling=Tiling(tile_m=tile_m, workers=2))
    assert "tiles of" in tiled.metadata["tiling"]
    xy = np.column_stack([single.dwellings.geometry.x, single.dwellings.geometry.y])
    assert len(np.unique(tile_of(xy, tile_m), axis=0)) >= 6, "the test must cross tile borders"
    for layer in ("dwellings", "areas", "amenities"):
        a, b = getattr(single, layer), getattr(tiled, layer)
        assert a.columns.tolist() == b.columns.tolist()
        assert len(a) == len(b)
        for col in a.columns.drop(a.geometry.name):
            assert identical(a[col], b[col]), (study, layer, col)


def test_tiling_checks_its_arguments():
    with pytest.raises(ValueError, match="tile size must be positive"):
        Tiling(tile_m=0)
    with pytest.raises(ValueError, match="at least one worker"):
        Tiling(workers=0)


def test_running_scheduler_by_address(data_dir):
    # A scheduler that is already running (as on a real cluster), reached by its address.
    import logging

    from thuisdichtbij.engine.partition import local_cluster

    with local_cluster(1, silence_logs=logging.ERROR) as cluster:
        tiling = Tiling(tile_m=3000.0, scheduler=cluster.scheduler_address)
        tiled = scan("maastricht", data_dir=data_dir, tiling=tiling)
    single = scan("maastricht", data_dir=data_dir)
    assert cluster.scheduler_address in tiled.metadata["tiling"]
    for col in single.dwellings.columns.drop("geometry"):
        assert identical(single.dwellings[col], tiled.dwellings[col]), col


def test_local_cluster_while_port_8787_is_taken():
    # Dask's default dashboard port, taken (by us or by anyone else): a cluster must still
    # start without a warning (warnings are errors here), so two suites can run at once.
    import contextlib
    import logging
    import socket

    from thuisdichtbij.engine.partition import local_cluster

    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # already taken by someone else: just as good
            sock.bind(("127.0.0.1", 8787))
            sock.listen()
        cluster = stack.enter_context(local_cluster(1, silence_logs=logging.ERROR))
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        # each worker process snaps on one thread: tiles on every core do not oversubscribe
        from dask.distributed import Client

        from thuisdichtbij.settings import threads

        client = stack.enter_context(Client(cluster))
        assert set(client.run(threads).values()) == {1}
