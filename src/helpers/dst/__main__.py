"""Command line for the core DST steps, so that the same code runs outside notebooks (Snakemake, Nextflow, shell).

  python -m helpers.dst fit --input points.csv --model probit --output fits.csv
  python -m helpers.dst qc --dst-dir data/simulated/ci/dst --output plate_qc.csv --wells-output wells.csv
  python -m helpers.dst synergy --input matrix.csv --output cells.csv --blocks-output blocks.csv

Exit status: 0 on success, 2 on bad input (the message names the file, row and column).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_command
from ..errors import DataContractError
from ..io import write_table

# Only the standard library and the light helpers modules at import time: each subcommand imports what it needs, so
# that --help answers at once.


def _fit(a: argparse.Namespace) -> None:
    from .contract import read_long_table
    from .fit import fit_curves

    pts = read_long_table(a.input)
    fits = fit_curves(pts, model=a.model, keys=("sample", "drug"), threshold=a.threshold)
    first = ["sample", "drug", "auc", "ic50_uM"]
    write_table(fits[first + [c for c in fits.columns if c not in first]], a.output)


def _qc(a: argparse.Namespace) -> None:
    from ..clinical import load_samples
    from .contract import load_plates
    from .qc import flag_wells, normalise_plates, plate_qc

    samples = load_samples(a.samples.parent) if a.samples else None
    wells = flag_wells(load_plates(a.dst_dir, samples=samples))
    qc = plate_qc(wells)
    write_table(qc, a.output)
    if a.wells_output:
        write_table(normalise_plates(wells, qc), a.wells_output)


def _synergy(a: argparse.Namespace) -> None:
    import pandas as pd

    from .synergy import synergy_table

    path = Path(a.input)
    try:
        cells = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataContractError(path, f"cannot be read as CSV: {exc}") from None
    if "inhibition_pct" not in cells and "viability_pct" in cells:
        cells["inhibition_pct"] = 100 - cells["viability_pct"]
    need = ["block", "conc_row", "conc_col", "inhibition_pct"]
    missing = [c for c in need if c not in cells]
    if missing:
        raise DataContractError(path, f"missing required column(s): {', '.join(missing)} (or viability_pct)",
                                column=missing[0])
    for c in need[1:]:  # empty cells are missing wells (e.g. flagged by QC); text is an error
        bad = pd.to_numeric(cells[c], errors="coerce").isna() & cells[c].notna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataContractError(path, f"not a number: {cells[c].iat[i]!r}", row=i + 2, column=c)
    from ..plausibility import raise_first, synergy_problems

    raise_first(synergy_problems(cells, path))
    per_cell, per_block = synergy_table(cells.astype({"block": str}), monotherapy_fit=a.monotherapy_fit,
                                        fit_engine=a.fit_engine)
    write_table(per_cell, a.output)
    if a.blocks_output:
        write_table(per_block, a.blocks_output)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``python -m helpers.dst`` (subcommands ``fit``, ``qc``, ``synergy``).

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand's ``func`` default is the function that runs it.
    """
    ap = argparse.ArgumentParser(prog="python -m helpers.dst", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit dose-response curves from a long table of points")
    f.add_argument("--input", required=True, type=Path,
                   help="CSV with columns sample, drug, conc_uM (or conc + conc_unit), viability_pct; one row per "
                        "point, replicates as separate rows")
    f.add_argument("--model", choices=["probit", "ll4"], default="ll4",
                   help="probit: BeatAML binomial-probit GLM; ll4: 4-parameter logistic (Breeze bounds) with DSS1-3 "
                        "(default ll4)")
    f.add_argument("--threshold", type=float, default=10.0, help="DSS activity threshold in %% inhibition (default 10)")
    f.add_argument("--output", required=True, type=Path,
                   help="CSV, one row per sample x drug: sample, drug, auc, ic50_uM, then the model's parameters, "
                        "n_points, fit_flag (and dss1, dss2, dss3, r2 for ll4)")
    f.set_defaults(func=_fit)
    q = sub.add_parser("qc", help="plate QC (Z', SSMD, CVs, edge/row/column effects) of a DST folder")
    q.add_argument("--dst-dir", required=True, type=Path,
                   help="folder with plates.csv, reader exports and plate maps (docs/dst.md)")
    q.add_argument("--samples", type=Path, default=None,
                   help="optional samples.csv: every plate's sample must be listed there")
    q.add_argument("--output", required=True, type=Path, help="CSV of per-plate QC metrics and pass/fail flags")
    q.add_argument("--wells-output", type=Path, default=None,
                   help="optional CSV of every well with its flag and normalised viability / inhibition")
    q.set_defaults(func=_qc)
    s = sub.add_parser("synergy", help="Bliss, HSA, Loewe and ZIP scores of two-drug dose matrices")
    s.add_argument("--input", required=True, type=Path,
                   help="CSV with columns block, conc_row, conc_col and inhibition_pct (or viability_pct); each block "
                        "includes the zero-concentration row and column")
    s.add_argument("--output", required=True, type=Path, help="CSV of per-cell scores")
    s.add_argument("--blocks-output", type=Path, default=None,
                   help="optional CSV of per-block means, maxima and the ZIP block p-value")
    s.add_argument("--monotherapy-fit", choices=["synergyfinder3", "synergyfinder2"], default="synergyfinder3",
                   help="monotherapy curves of the Loewe model: synergyfinder3 (all LL.4 parameters free, default) or "
                        "synergyfinder2 (top 100, bottom min(0, lowest response), fitted as R drc fits) to compare "
                        "with results published with SynergyFinder 2")
    s.add_argument("--fit-engine", choices=["least_squares", "drc"], default="least_squares",
                   help="least_squares: all curves in one vectorised batch (default); drc: every curve fitted as the R "
                        "package SynergyFinder fits it (R drc, its fallbacks), for identical results, slower")
    s.set_defaults(func=_synergy)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a data-contract error (printed as one line naming file, row and column).
    """
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
