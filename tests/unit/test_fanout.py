"""Per-file fan-out on dask.distributed: one task per FCS file, the same tables as the serial run byte for byte."""

from __future__ import annotations

import dataclasses
import functools
import os
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from helpers.cytometry import CytometryResult, load_cytometry
from helpers.cytometry.readouts import GATED_PANELS, process_files
from helpers.paths import repo_root
from helpers.simulate import DEFAULT_SEED, ensure_cohort
from helpers.workflow import open_executor


@pytest.fixture(scope="module")
def small_sheet():
    cohort = ensure_cohort(repo_root() / "data/simulated/ci", scale="ci", seed=DEFAULT_SEED, axes=("cytometry",))
    inputs = load_cytometry(cohort / "cytometry")
    # Two samples' tubes (every panel), enough for the panel checks and the sample-level swap warnings.
    keep = inputs.sheet["sample_id"].isin(inputs.sheet["sample_id"].unique()[:2])
    return inputs.sheet[keep].reset_index(drop=True), inputs.gating, inputs.panels


def _same(a: CytometryResult, b: CytometryResult) -> None:
    for k in (f.name for f in dataclasses.fields(a)):
        pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)
        assert a[k].to_csv(index=False) == b[k].to_csv(index=False)


def test_fcs_fanout_on_a_local_cluster_gives_the_serial_tables(small_sheet):
    sheet, gating, panels = small_sheet
    serial = process_files(sheet, gating, panels=panels)
    assert len(serial["qc"]) == int(sheet["panel"].isin(GATED_PANELS).sum()) > 10  # PROLIF/MRD tubes: other analyses
    with open_executor(local_cluster=2) as ex:  # the executor run_all.py --local-cluster 2 opens
        fanned = process_files(sheet, gating, panels=panels, executor=ex)
    _same(serial, fanned)
    with ProcessPoolExecutor(2) as ex:
        _same(serial, process_files(sheet, gating, panels=panels, executor=ex))


def test_local_cluster_workers_keep_the_default_allocator(monkeypatch):
    # dask's nannies set MALLOC_TRIM_THRESHOLD_, which makes every large numpy temporary a fresh mmap (slower per file);
    # the executor drops it, and a value the user sets still reaches the workers.
    worker_value = functools.partial(os.getenv, "MALLOC_TRIM_THRESHOLD_")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with open_executor(local_cluster=1) as ex:
        assert ex.submit(worker_value).result() is None
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "0")
    with open_executor(local_cluster=1) as ex:
        assert ex.submit(worker_value).result() == "0"
