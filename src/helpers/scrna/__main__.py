"""Command line of the single-cell axis.

  python -m helpers.scrna check DATA_DIR          validate scrna/sample_sheet.csv and every 10x output
  python -m helpers.scrna qc DATA_DIR --out FILE  per-sample QC summary (MAD limits, Hb, scrublet) as CSV
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_command


def _check(a: argparse.Namespace) -> int:
    from .load import load_cohort_scrna

    adata = load_cohort_scrna(a.data_dir)
    per = adata.obs.groupby("sample_id", observed=True).size()
    for sid, n in per.items():
        print(f"{sid}\t{n} cells")
    print(f"ok: {len(per)} samples, {adata.n_obs} cells x {adata.n_vars} genes")
    return 0


def _qc(a: argparse.Namespace) -> int:
    from ..io import write_table
    from .load import load_cohort_scrna
    from .qc import run_qc

    adata = load_cohort_scrna(a.data_dir)
    _, summary, _ = run_qc(adata, min_genes=a.min_genes, hb_max=a.hb_max, doublets=not a.no_doublets, seed=a.seed)
    write_table(summary, a.out)
    print(f"wrote {a.out}: {int(summary['cells_after'].sum())} of {int(summary['cells_before'].sum())} cells kept")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.scrna", description="Single-cell RNA-seq axis of DREAM.")
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate the scRNA part of a cohort folder against the data contract")
    c.add_argument("data_dir", type=Path, help="cohort folder holding samples.csv and scrna/sample_sheet.csv")
    c.set_defaults(func=_check)
    q = sub.add_parser("qc", help="run per-sample QC and write its summary table")
    q.add_argument("data_dir", type=Path, help="cohort folder holding samples.csv and scrna/sample_sheet.csv")
    q.add_argument("--out", type=Path, required=True, help="CSV file for the per-sample QC summary")
    q.add_argument("--min-genes", type=int, default=100, help="absolute floor on detected genes (default 100)")
    q.add_argument("--hb-max", type=float, default=90.0, help="%% haemoglobin UMIs above which a barcode is a "
                   "red cell / reticulocyte (default 90)")
    q.add_argument("--no-doublets", action="store_true", help="skip scrublet doublet detection")
    q.add_argument("--seed", type=int, default=0, help="random state of the doublet simulation (default 0)")
    q.set_defaults(func=_qc)
    return run_command(ap, argv)


if __name__ == "__main__":
    sys.exit(main())
