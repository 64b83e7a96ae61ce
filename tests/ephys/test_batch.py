"""Chunked parallel map: identical results to serial, chunking rules, executors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from nplab.batch import chunk_size_for, chunks, map_chunks, resolve_executor
from nplab.ephys import measure
from nplab.errors import InputError


def _square_chunk(xs):
    return [x * x for x in xs]


def test_chunk_sizes():
    assert chunk_size_for(10, 2) == 5  # few files: spread over the workers
    assert chunk_size_for(1000, 2) == 125
    assert chunk_size_for(100_000, 16) == 200
    assert chunk_size_for(120, 2) == 50
    assert chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize("executor", [None, "serial", 1, 2])
def test_map_chunks_order_and_identity(executor):
    items = list(range(237))
    assert map_chunks(_square_chunk, items, executor=executor, progress=False) == [
        x * x for x in items
    ]


def test_user_executor_is_not_shut_down():
    with ThreadPoolExecutor(2) as pool:
        out = map_chunks(_square_chunk, range(20), executor=pool, chunk_size=3)
        assert out == [x * x for x in range(20)]
        assert pool.submit(int, "3").result() == 3


def test_bad_executor():
    with pytest.raises(InputError):
        resolve_executor(0, 10)
    with pytest.raises(InputError):
        resolve_executor(object(), 10)


def test_measure_parallel_equals_serial(repo_dir):
    files = sorted(str(p) for p in (repo_dir / "sample_data" / "ephys").glob("navrest-cell0*.abf"))
    files.append(str(repo_dir / "missing.abf"))
    serial = measure(files, executor="serial")
    parallel = measure(files, executor=2)
    pd.testing.assert_frame_equal(serial, parallel)
    assert serial["file"].drop_duplicates().tolist() == files


@pytest.mark.slow
def test_measure_with_dask_client(repo_dir):
    distributed = pytest.importorskip("distributed")
    files = sorted(str(p) for p in (repo_dir / "sample_data" / "ephys").glob("herg-cell01*.abf"))
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        via_dask = measure(files, executor=client)
    pd.testing.assert_frame_equal(via_dask, measure(files, executor="serial"))


@pytest.mark.slow
def test_measure_with_scheduler_address(repo_dir):
    distributed = pytest.importorskip("distributed")
    files = sorted(str(p) for p in (repo_dir / "sample_data" / "ephys").glob("herg-cell02*.abf"))
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        via_address = measure(files, executor=cluster.scheduler_address)
        assert cluster.scheduler.status.name == "running"  # our client closed, not the cluster
    pd.testing.assert_frame_equal(via_address, measure(files, executor="serial"))
