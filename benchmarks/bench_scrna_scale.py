#!/usr/bin/env python
"""Benchmark of the chunked single-cell path from 100,000 cells to the study's million, against scanpy's default recipe.

Cells are the first samples of the simulated ``dream`` cohort (5,250-9,750 cells per sample, ~4,600 genes; written
once, incrementally, into ``--data``). For each size, each pipeline runs in a fresh Python process (imports and numba
compilation are counted, as in a notebook run); the parent samples the resident memory of that process and all its
descendants (the QC workers) every 0.2 s:

- ``chunked``: :func:`helpers.scrna.chunked.build_atlas_chunked` (per-sample QC with scrublet on ``--qc-workers``
  processes, batch-aware HVG, streamed PCA, Harmony, kNN, Leiden, annotation; UMAP with ``--umap``) and, with
  ``--write``, the annotated ``.h5ad`` written sample by sample;
- ``chunked_nodbl``: the same without doublet detection (``doublets=False``), run beside the baseline: the
  like-for-like cost per cell against scanpy's default recipe, which detects no doublets either (still with Harmony and
  the annotation, which the default recipe does not run);
- ``scanpy_default`` (baseline): scanpy's default recipe on the same cells (fixed QC floors, normalize_total, log1p,
  2,000 HVG, scale, PCA, default neighbours, Leiden; UMAP with ``--umap``) without doublets, integration or
  annotation, on the whole matrix in memory. Skipped, saying so, where it cannot fit in the memory available (about
  85 kB per cell, measured by benchmarks/bench_scrna.py) or with ``--no-baseline``;
- ``scanpy_tutorial`` (second baseline, with ``--tutorial``): the steps of scanpy's own "Preprocessing and clustering"
  tutorial (QC metrics, the same floors, ``sc.pp.scrublet(batch_key=...)`` per sample, normalize_total, log1p,
  batch-aware HVG, PCA, neighbours, Leiden): the same work as the chunked path's per-sample doublet detection, so its
  ratio is the like-for-like cost per cell (the chunked path still also runs Harmony and the annotation).

Printed: wall time, CPU time (user + system of the process tree), peak memory, cells per second, ratios to the
baseline, the per-step times of the chunked path, the load average at each row, and the growth exponents (log-log
least-squares slope of wall time, CPU time and peak memory against cells; 1 = linear). Sizes of 500,000 cells or more
run only when ``free`` shows enough memory available (10 GB for 500k, 18 GB for 1 M), else they are skipped with the
command to run them on a quieter machine.

Usage: ``python benchmarks/bench_scrna_scale.py [--quick] [--cells 100000 250000] [--no-baseline]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BASELINE_KB_PER_CELL = 85  # scanpy default recipe, bench_scrna.py: 8.9 GB at 107k cells
MIN_AVAILABLE_GB = {500_000: 10, 1_000_000: 18}

CHILD = r"""
import json, resource, sys, tempfile, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
sys.path.insert(0, {src!r})
from pathlib import Path
from helpers.clinical import load_samples
from helpers.scrna.contract import read_sample_sheet, load_samples_10x
variant, data, n_samples, umap, write, qc_workers = {variant!r}, {data!r}, {n_samples!r}, {umap!r}, {write!r}, {qcw!r}
sheet = read_sample_sheet(Path(data) / "scrna" / "sample_sheet.csv").iloc[:n_samples].reset_index(drop=True)
samples = load_samples(data)
steps = {{}}
if variant.startswith("chunked"):
    from helpers.scrna.chunked import build_atlas_chunked, write_atlas_chunked
    from helpers.workflow import open_executor
    with tempfile.TemporaryDirectory(prefix="chunked_", dir={scratch!r}) as scratch:
        with open_executor(jobs=qc_workers) as ex:
            res = build_atlas_chunked(sheet, samples, scratch, executor=ex if qc_workers > 1 else None, umap=umap,
                                      doublets=variant == "chunked")
        steps = dict(res.timings)
        if write:
            t = time.perf_counter()
            write_atlas_chunked(res, Path(scratch) / "atlas.h5ad")
            steps["write"] = time.perf_counter() - t
        n = res.adata.n_obs
else:
    import scanpy as sc
    tutorial = variant == "scanpy_tutorial"
    adata = load_samples_10x(sheet)
    t = time.perf_counter()
    if tutorial:  # scanpy's "Preprocessing and clustering" tutorial: QC metrics, then doublets per sample
        adata.var["mt"] = adata.var_names.str.startswith("MT-")
        adata.var["ribo"] = adata.var_names.str.startswith(("RPS", "RPL"))
        adata.var["hb"] = adata.var_names.str.contains("^HB[^(P)]")
        sc.pp.calculate_qc_metrics(adata, qc_vars=["mt", "ribo", "hb"], inplace=True, log1p=True)
    sc.pp.filter_cells(adata, min_genes=100)
    sc.pp.filter_genes(adata, min_cells=3)
    if tutorial:
        # a fixed threshold: the automatic one needs scikit-image (not a dependency); calling costs nothing next to scoring
        sc.pp.scrublet(adata, batch_key="sample_id", threshold=0.25)
    steps["qc"] = time.perf_counter() - t
    t = time.perf_counter()
    sc.pp.normalize_total(adata, target_sum=None if tutorial else 1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=2000, batch_key="sample_id" if tutorial else None)
    adata = adata[:, adata.var["highly_variable"]].copy()
    steps["hvg"] = time.perf_counter() - t
    t = time.perf_counter()
    if not tutorial:  # the legacy recipe scales; the tutorial goes from log1p to PCA
        sc.pp.scale(adata, max_value=10)
    sc.pp.pca(adata, n_comps=30)
    steps["pca"] = time.perf_counter() - t
    t = time.perf_counter()
    sc.pp.neighbors(adata)
    steps["knn"] = time.perf_counter() - t
    t = time.perf_counter()
    sc.tl.leiden(adata, flavor="igraph", n_iterations=2)
    steps["leiden"] = time.perf_counter() - t
    if umap:
        t = time.perf_counter()
        sc.tl.umap(adata)
        steps["umap"] = time.perf_counter() - t
    n = adata.n_obs
s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"seconds": time.perf_counter() - t0, "cells_out": int(n), "steps": steps,
                   "cpu_seconds": s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime}}))
"""


def available_gb() -> float:
    import psutil

    return psutil.virtual_memory().available / 2**30


def run_child(variant: str, data: Path, n_samples: int, *, umap: bool, write: bool, qc_workers: int,
              scratch: str) -> dict:  # fmt: skip
    """Run one pipeline in a fresh process; its result with the peak RSS of the process tree (MB)."""
    import psutil

    code = CHILD.format(src=str(ROOT / "src"), variant=variant, data=str(data), n_samples=n_samples, umap=umap,
                        write=write, qcw=qc_workers, scratch=scratch)  # fmt: skip
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=err)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                rss = 0
                for p in tree:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            lines = err.read().strip().splitlines()
            return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
        res = json.loads(out.read().strip().splitlines()[-1])
    res["peak_mb"] = peak / 2**20
    return res


def ensure_data(data: Path, n_cells: int, *, workers: int) -> tuple[int, int]:
    """Write dream samples until the first N hold ``n_cells`` cells; returns (N, their cells)."""
    import pandas as pd

    from helpers.simulate import DEFAULT_SEED
    from helpers.simulate.dream import DREAM_SCRNA_CELLS, dream_scrna_samples, write_dream

    n = max(2, int(n_cells / DREAM_SCRNA_CELLS) + 1)
    while True:
        write_dream(data, seed=DEFAULT_SEED, max_samples=n, workers=workers, axes=("scrna",))
        cells = pd.read_csv(data / "truth" / "scrna_dream_samples.csv")["n_cells"].cumsum().to_numpy()
        if cells[-1] >= n_cells or n >= len(dream_scrna_samples(pd.read_csv(data / "samples.csv"))):
            k = int(min(len(cells), (cells < n_cells).sum() + 1))
            # the sheet of a slice lists its first N samples; the benchmark reads the first k of them
            return k, int(cells[k - 1])
        n += max(1, int((n_cells - cells[-1]) / DREAM_SCRNA_CELLS) + 1)


def growth(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x)."""
    import numpy as np

    if len(xs) < 2:
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def whole_study(rows: list[dict], data: Path, workers: tuple[int, ...] = (1, 2, 8, 32)) -> None:
    """The scRNA row of the whole-study extrapolation, from the largest chunked run measured.

    Per-sample QC (one task per sample) divides among dask workers; the cohort step (HVG, PCA, Harmony, kNN, Leiden,
    annotation) runs in one process. Both are extrapolated linearly in cells (the growth exponents above say how far
    that holds)."""
    import pandas as pd

    from helpers.simulate.dream import DREAM_SCRNA_CELLS, dream_scrna_samples

    ok = [r for r in rows if r["variant"] == "chunked" and "seconds" in r]
    if not ok:
        return
    r = max(ok, key=lambda r: r["cells"])
    n_samples = len(dream_scrna_samples(pd.read_csv(data / "samples.csv")))
    total = n_samples * DREAM_SCRNA_CELLS
    qc = r["steps"].get("qc", 0.0)
    rest = r["seconds"] - qc
    f = total / r["cells"]
    times = ", ".join(f"{w} workers {(qc * f / w + rest * f) / 3600:.2f} h" for w in workers)
    print(f"\nwhole study (scRNA): {n_samples} samples, about {total:,} cells; measured {r['cells'] / r['seconds']:,.0f} "
          f"cells/s and {r['peak_mb'] / 1024:.1f} GB peak at {r['cells']:,} cells (load {r['load']:.1f}); "
          f"extrapolated wall time: this machine {(r['seconds'] * f) / 3600:.2f} h; QC on N dask workers: {times}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20k and 40k cells (a smoke run)")
    ap.add_argument("--cells", type=int, nargs="+", help="sizes (default 100000 250000 500000 1000000)")
    ap.add_argument("--no-baseline", action="store_true", help="skip scanpy's default recipe (and the tutorial's)")
    ap.add_argument("--tutorial", action="store_true",
                    help="also run scanpy's tutorial recipe (with per-sample scrublet) as a second baseline")
    ap.add_argument("--umap", action="store_true", help="include UMAP in both pipelines")
    ap.add_argument("--write", action="store_true", help="also write the chunked atlas .h5ad (sample by sample)")
    ap.add_argument("--qc-workers", type=int, default=2, help="processes of the chunked path's per-sample QC")
    ap.add_argument("--sim-workers", type=int, default=1, help="processes writing the dream samples (~2 GB each)")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "simulated" / "dream",
                    help="dream cohort folder (written incrementally)")
    ap.add_argument("--scratch", default=None, help="folder for the chunked path's per-sample counts")
    a = ap.parse_args(argv)
    if a.scratch:  # a folder named on the command line may not exist yet
        Path(a.scratch).mkdir(parents=True, exist_ok=True)
    sizes = a.cells or ([20_000, 40_000] if a.quick else [100_000, 250_000, 500_000, 1_000_000])
    rows = []
    for size in sizes:
        need = max((gb for s, gb in MIN_AVAILABLE_GB.items() if size >= s), default=0)
        free = available_gb()
        if need and free < need:
            print(f"# {size} cells skipped: {free:.1f} GB available, {need} GB needed; run on a quieter machine:\n"
                  f"#   .venv/bin/python benchmarks/bench_scrna_scale.py --cells {size} --no-baseline", flush=True)
            continue
        t0 = time.perf_counter()
        n_samples, n = ensure_data(a.data, size, workers=a.sim_workers)
        print(f"# {n} cells in {n_samples} samples ready in {time.perf_counter() - t0:.1f} s", flush=True)
        bases = {}
        variants = ("scanpy_default", "chunked_nodbl", *(("scanpy_tutorial",) if a.tutorial else ()), "chunked")
        for variant in variants:
            if variant != "chunked":  # the baselines and the chunked path's like-for-like row beside them
                fit = variant == "chunked_nodbl" or available_gb() - 2 > BASELINE_KB_PER_CELL * n / 2**20
                if a.no_baseline or not fit:
                    why = "--no-baseline" if a.no_baseline else (
                        f"needs about {BASELINE_KB_PER_CELL * n / 2**20:.0f} GB, {available_gb():.1f} GB available")
                    rows.append({"cells": n, "variant": variant, "skipped": why})
                    print(f"# {variant} at {n} cells skipped: {why}", flush=True)
                    continue
            load = os.getloadavg()[0]
            r = run_child(variant, a.data, n_samples, umap=a.umap, write=a.write, qc_workers=a.qc_workers,
                          scratch=a.scratch or tempfile.gettempdir())  # fmt: skip
            r.update(cells=n, variant=variant, load=load, load_after=os.getloadavg()[0])
            if variant.startswith("scanpy") and "error" not in r:
                bases[variant] = r
            r["base"] = bases.get("scanpy_default") if variant != "scanpy_default" else None
            r["tutorial"] = bases.get("scanpy_tutorial") if variant == "chunked" else None
            rows.append(r)
            shown = {k: v for k, v in r.items() if k not in ("base", "tutorial")}
            print(f"# {variant} at {n} cells: {json.dumps(shown)}", flush=True)
    print()
    print(f"{'cells':>8} {'pipeline':<15} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'cells/s':>8} {'x wall':>7} "
          f"{'x CPU':>6} {'x mem':>6} {'x CPU tut':>9} {'load':>9}")
    for r in rows:
        if "skipped" in r or "error" in r:
            print(f"{r['cells']:>8} {r['variant']:<15} {'skipped: ' + r['skipped'] if 'skipped' in r else r['error']}")
            continue
        b = r.get("base")
        rat = [f"{r[k] / b[k]:.2f}" if b else "-" for k in ("seconds", "cpu_seconds", "peak_mb")]
        tut = f"{r['cpu_seconds'] / r['tutorial']['cpu_seconds']:.2f}" if r.get("tutorial") else "-"
        print(f"{r['cells']:>8} {r['variant']:<15} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['peak_mb']:>8.0f} "
              f"{r['cells'] / r['seconds']:>8.0f} {rat[0]:>7} {rat[1]:>6} {rat[2]:>6} {tut:>9} "
              f"{r['load']:>4.1f}-{r['load_after']:<4.1f}")
    steps = ["qc", "hvg", "pca", "harmony", "knn", "leiden", "umap", "annotation", "write"]
    print(f"\nper-step seconds\n{'cells':>8} {'pipeline':<15} " + " ".join(f"{s:>10}" for s in steps))
    for r in rows:
        if "steps" in r:
            print(f"{r['cells']:>8} {r['variant']:<15} " + " ".join(
                f"{r['steps'][s]:>10.1f}" if s in r["steps"] else f"{'-':>10}" for s in steps))
    print("\ngrowth exponents (log-log slope against cells; 1 = linear)")
    for variant in ("chunked", "chunked_nodbl", "scanpy_default", "scanpy_tutorial"):
        ok = [r for r in rows if r["variant"] == variant and "seconds" in r]
        xs = [r["cells"] for r in ok]
        parts = [f"{k} {g:.2f}" for k, key in (("wall", "seconds"), ("CPU", "cpu_seconds"), ("peak memory", "peak_mb"))
                 if (g := growth(xs, [r[key] for r in ok])) is not None]  # fmt: skip
        for s in steps:
            ys = [r["steps"].get(s) for r in ok]
            if all(y is not None and y > 0 for y in ys) and (g := growth(xs, ys)) is not None:
                parts.append(f"{s} {g:.2f}")
        print(f"  {variant:<15} " + (", ".join(parts) if parts else "fewer than two sizes"))
    whole_study(rows, a.data)
    print("\nbaseline = scanpy_default on the same cells in the same run (x = ratio to it; x CPU tut = CPU ratio to "
          "scanpy_tutorial, which also detects doublets per sample; chunked_nodbl = the chunked path without doublet "
          "detection, like the default recipe); times include imports and "
          "numba compilation in a fresh process; CPU s is user + system of the process tree; peak MB is the largest "
          "summed RSS of the process tree (sampled every 0.2 s); load = 1-minute load average before-after the run.")


if __name__ == "__main__":
    main()
