"""The dream scale's barcode libraries (one stream per library) and per-FASTQ fan-out of the extraction."""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from helpers.barcodes import count_libraries
from helpers.barcodes.contract import load_barcode_dataset
from helpers.simulate import DEFAULT_SEED
from helpers.simulate.dream import DREAM_PDX, DREAM_SIZES, write_dream_barcodes
from helpers.workflow import map_tasks, open_executor
from helpers.workflow.execute import SCHEDULER_ENV

FRACTION = 2e-5  # 20-100 reads per library: the dream code path at a size the suite can afford


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}  # fmt: skip


def test_dream_barcode_slice_is_deterministic_and_independent_of_workers(tmp_path):
    one = write_dream_barcodes(tmp_path / "a", seed=7, max_samples=2, workers=1, read_fraction=FRACTION)
    d1 = _digest(one / "barcodes")
    assert d1 == _digest(write_dream_barcodes(tmp_path / "b", seed=7, max_samples=2, workers=2,
                                              read_fraction=FRACTION) / "barcodes")  # fmt: skip
    write_dream_barcodes(one, seed=7, max_samples=2, workers=1, read_fraction=FRACTION)  # incremental: nothing moves
    assert _digest(one / "barcodes") == d1
    # The first PDX alone: exactly the bytes of its libraries in the larger slice.
    first = _digest(write_dream_barcodes(tmp_path / "c", seed=7, max_samples=1, read_fraction=FRACTION) / "barcodes")
    fq = {k: v for k, v in first.items() if k.endswith(".fastq.gz")}
    assert fq and all(d1[k] == v for k, v in fq.items())
    assert len([k for k in d1 if k.endswith(".fastq.gz")]) == 2 * len(fq) == 2 * 42
    other = _digest(write_dream_barcodes(tmp_path / "d", seed=8, max_samples=1, read_fraction=FRACTION) / "barcodes")
    assert any(other.get(k) != v for k, v in fq.items())
    libs = pd.read_csv(one / "truth" / "barcodes_dream_libraries.csv")
    lo, hi = DREAM_SIZES["barcode_reads"]
    assert libs["n_reads"].between(lo * FRACTION - 1, hi * FRACTION + 1).all()
    samples = pd.read_csv(one / "samples.csv")
    assert samples["assays"].str.contains("barcoding").sum() == DREAM_PDX
    ds = load_barcode_dataset(one)  # the data contract accepts the layout
    assert len(ds.sheet) == 84 and ds.sheet["pdx_id"].nunique() == 2


@pytest.fixture(scope="module")
def dream_libraries(tmp_path_factory):
    root = write_dream_barcodes(tmp_path_factory.mktemp("dream"), seed=DEFAULT_SEED, max_samples=1,
                                read_fraction=2e-4)  # fmt: skip
    ds = load_barcode_dataset(root)
    ds.sheet = ds.sheet.iloc[:12].reset_index(drop=True)
    return ds


def _csv(tables) -> list[str]:
    return [t.to_csv(index=False) for t in tables]


def test_count_libraries_fanned_out_on_a_local_cluster_gives_the_serial_tables(dream_libraries, monkeypatch):
    serial = count_libraries(dream_libraries)
    assert len(serial[1]) == 12 and serial[1]["matched"].gt(0).all() and len(serial[0]) > 12
    with open_executor(local_cluster=2) as ex:
        # map_tasks sends the tasks to the run's cluster (what run_all.py --local-cluster 2 sets up)
        monkeypatch.setenv(SCHEDULER_ENV, ex.address)
        fanned = count_libraries(dream_libraries, mapper=map_tasks)
    assert _csv(fanned) == _csv(serial)
    monkeypatch.delenv(SCHEDULER_ENV)
    with ProcessPoolExecutor(2) as pool:
        assert _csv(count_libraries(dream_libraries, mapper=pool.map)) == _csv(serial)
