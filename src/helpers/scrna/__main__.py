"""Command line of the single-cell axis.

- ``python -m helpers.scrna check DATA_DIR``: validate ``scrna/sample_sheet.csv`` and every 10x output.
- ``python -m helpers.scrna qc DATA_DIR --out FILE``: per-sample QC summary (MAD limits, Hb, scrublet) as CSV.
- ``python -m helpers.scrna annotate --input FILE.h5ad|FILE.h5 --out OUT.h5ad [--log-normalized]
  [--species human|mouse]``: malignant / normal call with its evidence, cell type, hierarchy state.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_command


def _check(a: argparse.Namespace) -> int:
    from .contract import load_cohort_scrna

    adata = load_cohort_scrna(a.data_dir)
    per = adata.obs.groupby("sample_id", observed=True).size()
    for sid, n in per.items():
        print(f"{sid}\t{n} cells")
    print(f"ok: {len(per)} samples, {adata.n_obs} cells x {adata.n_vars} genes")
    return 0


def _qc(a: argparse.Namespace) -> int:
    from ..io import write_table
    from .contract import load_cohort_scrna
    from .qc import run_qc

    adata = load_cohort_scrna(a.data_dir)
    _, summary, _ = run_qc(adata, min_genes=a.min_genes, hb_max=a.hb_max, doublets=not a.no_doublets, seed=a.seed)
    write_table(summary, a.out)
    print(f"wrote {a.out}: {int(summary['cells_after'].sum())} of {int(summary['cells_before'].sum())} cells kept")
    return 0


def _annotate(a: argparse.Namespace) -> int:
    from .embedding import cluster_and_umap, embed, normalise, select_hvg
    from .h5ad import read_h5ad_counts, write_atlas
    from .malignant import call_malignant
    from .tenx import read_10x

    path = Path(a.input)
    adata = read_h5ad_counts(path, log_normalized=a.log_normalized) if path.suffix == ".h5ad" else read_10x(path)
    if "patient_id" not in adata.obs:
        adata.obs["patient_id"] = path.stem
    if "sample_id" not in adata.obs:
        adata.obs["sample_id"] = path.stem
    if not adata.uns.get("log_normalized"):  # else X is already log-normalised and there is no counts layer
        normalise(adata)
    select_hvg(adata, n_top_genes=a.n_top_genes, batch_key=None)
    rep = embed(adata, n_pcs=min(30, adata.n_obs - 1), batch_key=None, seed=a.seed)
    cluster_and_umap(adata, use_rep=rep, umap=not a.no_umap, seed=a.seed)
    table = call_malignant(adata, cnv=not a.no_cnv, species=a.species, patient_key="patient_id")
    write_atlas(adata, a.out)
    calls = adata.obs["malignant_call"].value_counts()
    for p, row in table.iterrows():
        print(f"{p}: reference {row['reference'] or 'none (no CNV)'}; copy-number change: "
              f"{row['cnv_changes'] or 'none detected'}; evidence: {row['evidence']}")
    print(f"wrote {a.out}: {adata.n_obs} cells; " + ", ".join(f"{k} {int(calls.get(k, 0))} "
          f"({100 * calls.get(k, 0) / adata.n_obs:.1f} %)" for k in ("malignant", "normal", "uncertain")))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m helpers.scrna`` (sub-commands ``check``, ``qc``, ``annotate``; see ``--help``).

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a data-contract error (reported in one line).
    """
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
    n = sub.add_parser("annotate", help="call malignant / normal cells and annotate one file, written as .h5ad")
    n.add_argument("--input", type=Path, required=True, help="one sample: .h5ad with raw counts, or a 10x .h5 / "
                   "matrix folder")
    n.add_argument("--out", type=Path, required=True, help="annotated .h5ad to write")
    n.add_argument("--log-normalized", action="store_true", help="the .h5ad holds log-normalised X and no counts")
    n.add_argument("--species", choices=["human", "mouse"], default="human", help="gene symbols' species "
                   "(mouse symbols are matched to the human gene sets by case; default human)")
    n.add_argument("--no-cnv", action="store_true", help="expression only (no copy-number inference)")
    n.add_argument("--no-umap", action="store_true", help="skip the UMAP (faster)")
    n.add_argument("--n-top-genes", type=int, default=2000, help="highly variable genes (default 2000)")
    n.add_argument("--seed", type=int, default=0, help="random state of PCA / UMAP (default 0)")
    n.set_defaults(func=_annotate)
    return run_command(ap, argv)


if __name__ == "__main__":
    sys.exit(main())
