#!/usr/bin/env python
"""Benchmark of the single-cell pipeline (QC to UMAP and annotation) at growing atlas sizes.

For each size, simulated cohorts of about 25k, 50k and 100k cells (``--quick``: 5k and 10k) are written once as
Cell Ranger h5 files; then each pipeline runs in a fresh Python process (so that import and numba compilation costs
are counted, as in a notebook run) and reports its wall time and peak resident memory:

- ``dream``: the compendium's pipeline (:func:`helpers.scrna.build_atlas`: per-sample MAD QC, scrublet per sample,
  batch-aware HVG, PCA, Harmony, exact kNN, Leiden, UMAP, annotation);
- ``dream_pynndescent``: the same with the approximate kNN (pynndescent);
- ``scanpy_default`` (baseline): scanpy's default recipe on the same cells (fixed QC floors, normalize_total, log1p,
  2,000 HVG, scale, PCA, default neighbours, Leiden, UMAP), without doublets, integration or annotation.

The table gives each run's time and memory and its ratio to the baseline at the same size.
Usage: ``python benchmarks/bench_scrna.py [--quick] [--sizes 25000 50000]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
sys.path.insert(0, {src!r})
from helpers.scrna import load_cohort_scrna
variant, data = {variant!r}, {data!r}
adata = load_cohort_scrna(data)
t_load = time.perf_counter() - t0
if variant.startswith("dream"):
    from helpers.scrna import build_atlas
    kept = build_atlas(adata, seed=0, knn="pynndescent" if variant.endswith("pynndescent") else "sklearn").adata
    n = kept.n_obs
else:
    import scanpy as sc
    sc.pp.filter_cells(adata, min_genes=100)
    sc.pp.filter_genes(adata, min_cells=3)
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    sc.pp.highly_variable_genes(adata, n_top_genes=2000)
    adata = adata[:, adata.var["highly_variable"]].copy()
    sc.pp.scale(adata, max_value=10)
    sc.pp.pca(adata, n_comps=30)
    sc.pp.neighbors(adata)
    sc.tl.leiden(adata, flavor="igraph", n_iterations=2)
    sc.tl.umap(adata)
    n = adata.n_obs
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"seconds": time.perf_counter() - t0, "load_seconds": t_load, "cells_out": int(n),
                   "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_mb": ru.ru_maxrss / 1024}}))
"""


def make_cohort(n_cells: int, folder: Path) -> int:
    """Write a simulated cohort of about ``n_cells`` cells (full-scale genes) and return its cell count."""
    from helpers.simulate import DEFAULT_SEED, simulate_patients
    from helpers.simulate.scrna import simulate_scrna

    tables = simulate_patients(120, seed=DEFAULT_SEED)
    n_samples = int(tables.samples["assays"].str.contains("scrna").sum())
    (folder / "truth").mkdir(parents=True, exist_ok=True)
    tables.write(folder)
    simulate_scrna(tables, folder, scale="full", seed=DEFAULT_SEED, cells_per_sample=max(40, n_cells // n_samples))
    import pandas as pd

    return len(pd.read_csv(folder / "truth" / "scrna_cells.csv.gz"))


def run_child(variant: str, data: Path) -> dict:
    code = CHILD.format(src=str(ROOT / "src"), variant=variant, data=str(data))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="5k and 10k cells only (a few minutes)")
    ap.add_argument("--sizes", type=int, nargs="+", help="target cell numbers (default 25000 50000 100000)")
    ap.add_argument("--variants", nargs="+", default=["scanpy_default", "dream", "dream_pynndescent"],
                    choices=["scanpy_default", "dream", "dream_pynndescent"], help="pipelines to run")
    a = ap.parse_args(argv)
    sizes = a.sizes or ([5000, 10000] if a.quick else [25000, 50000, 100000])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_scrna_") as tmp:
        for size in sizes:
            folder = Path(tmp) / f"n{size}"
            t0 = time.perf_counter()
            n = make_cohort(size, folder)
            print(f"# simulated {n} cells in {time.perf_counter() - t0:.1f} s", flush=True)
            base = None
            for variant in a.variants:
                r = run_child(variant, folder)
                if variant == "scanpy_default":
                    base = r
                rows.append({"cells": n, "variant": variant, **r, "base": base})
                print(f"# {variant} at {n} cells: {r}", flush=True)
    print()
    print(f"{'cells':>8} {'pipeline':<20} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'x wall':>7} {'x CPU':>6} "
          f"{'x mem':>6} {'cells kept':>10}")
    for r in rows:
        if "error" in r:
            print(f"{r['cells']:>8} {r['variant']:<20} error: {r['error']}")
            continue
        b = r["base"] if r["base"] and "error" not in r["base"] else None
        rt = f"{r['seconds'] / b['seconds']:.2f}" if b else "-"
        rc = f"{r['cpu_seconds'] / b['cpu_seconds']:.2f}" if b else "-"
        rm = f"{r['peak_mb'] / b['peak_mb']:.2f}" if b else "-"
        print(f"{r['cells']:>8} {r['variant']:<20} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['peak_mb']:>8.0f} "
              f"{rt:>7} {rc:>6} {rm:>6} {r['cells_out']:>10}")
    print("\nbaseline = scanpy_default at the same size (x = ratio to it); times include imports and numba "
          "compilation in a fresh process; CPU s (user + system) is the fairer figure on a shared machine.")


if __name__ == "__main__":
    main()
