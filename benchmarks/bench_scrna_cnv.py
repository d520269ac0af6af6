"""Cost of the malignant call with copy-number inference, per 10,000 cells, against the expression-only call.

Both variants run on the same annotated cells in this process (the kNN graph, normalisation and positions are done
once before timing): ``expression only`` = ``call_malignant(cnv=False)`` (the baseline: gene-set scores, smoothing,
the margin rule), ``cnv`` = ``call_malignant(cnv=True)`` (adds infercnvpy per patient, the arm test, per-cell
projection and the classifier trained on the CNV-called cells). Data: the simulated CI cohort (about 1,000 genes
with a position) and the real AML027 marrow (12,658 genes, of which about 7,000 placed), the gene count being what
the infercnvpy smoothing scales with.

    python benchmarks/bench_scrna_cnv.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import pandas as pd


def _prepare(adata):
    from helpers.scrna import cluster_and_umap, embed, normalise, run_qc, select_hvg

    kept, _, _ = run_qc(adata, doublets=False, seed=0)
    normalise(kept)
    select_hvg(kept)
    rep = embed(kept, batch_key=None, seed=0)
    cluster_and_umap(kept, use_rep=rep, umap=False, seed=0)
    return kept


def _time(kept, *, cnv: bool) -> tuple[float, float]:
    from helpers.scrna import call_malignant

    a = kept.copy()
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, c0 = time.perf_counter(), time.process_time()
    call_malignant(a, cnv=cnv)
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (ch1.ru_utime + ch1.ru_stime) - (ch0.ru_utime + ch0.ru_stime)  # infercnvpy's worker process
    return time.perf_counter() - t0, time.process_time() - c0 + children


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="CI cohort only")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from helpers.paths import repo_root
    from helpers.scrna import load_aml027, load_cohort_scrna
    from helpers.simulate import AXIS_SIMULATORS, DEFAULT_SEED, ensure_cohort

    data = {"CI cohort (simulated)": lambda: load_cohort_scrna(
        ensure_cohort(repo_root() / "data/simulated/ci", scale="ci", seed=DEFAULT_SEED, axes=AXIS_SIMULATORS))}
    if not a.quick:
        data["AML027 (real)"] = load_aml027
    rows = []
    for name, load in data.items():
        kept = _prepare(load())
        for variant, cnv in (("expression only", False), ("cnv", True)):
            wall, cpu = _time(kept, cnv=cnv)
            rows.append({"data": name, "cells": kept.n_obs, "genes": kept.n_vars, "call": variant,
                         "wall s": round(wall, 1), "CPU s": round(cpu, 1),
                         "CPU s per 10k cells": round(cpu * 1e4 / kept.n_obs, 1)})
    t = pd.DataFrame(rows)
    base = t[t["call"] == "expression only"].set_index("data")["CPU s"]
    t["x CPU"] = (t["CPU s"] / t["data"].map(base)).round(2)
    print(t.to_string(index=False))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (CPU s include infercnvpy's "
          "worker processes)")


if __name__ == "__main__":
    main()
