"""Per-file fan-out: the executor that ``run_all.py --scheduler/--local-cluster`` submits notebooks to, for files.

A cohort's thousands of FCS files (and, later, FASTQ libraries and 10x samples) are independent: each becomes one task
of a :class:`concurrent.futures.Executor`. :func:`dask_executor` opens the same kind of executor as the pipeline
(a dask.distributed ``Client.get_executor(pure=False)`` on a given scheduler, or on a ``LocalCluster`` of
single-threaded worker processes), so a lab with a cluster points both at one scheduler. Functions that fan out take
``executor=`` (e.g. :func:`helpers.cytometry.readouts.process_files`) and gather results in input order, so the
tables are the serial run's, byte for byte. See ``docs/dask_cluster.md`` for a SLURM example (dask-jobqueue).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

__all__ = ["dask_executor"]


@contextmanager
def dask_executor(*, scheduler: str | None = None, local_cluster: int | None = None,
                  memory_limit: str | None = None) -> Iterator[Executor]:  # fmt: skip
    """A dask.distributed executor on a running scheduler or on a new ``LocalCluster``, closed on exit.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``), e.g. one started by dask-jobqueue on SLURM.
    local_cluster
        Otherwise: start a LocalCluster with this many single-threaded worker processes.
    memory_limit
        Per-worker memory limit of the LocalCluster (dask's default: the machine's memory shared among workers).

    Yields
    ------
    concurrent.futures.Executor
    """
    from dask.distributed import Client, LocalCluster

    if (scheduler is None) == (local_cluster is None):
        raise ValueError("give exactly one of scheduler or local_cluster")
    cluster = None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        kw = {} if memory_limit is None else {"memory_limit": memory_limit}
        cluster = LocalCluster(n_workers=local_cluster, threads_per_worker=1, processes=True, dashboard_address=None,
                               **kw)  # fmt: skip
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
