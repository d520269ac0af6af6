"""Command line of the cytometry axis: ``python -m helpers.cytometry {gate, readouts, scrub} ...``.

Examples
--------
python -m helpers.cytometry gate --fcs a.fcs b.fcs --gates gates.xml --out stats.csv
python -m helpers.cytometry readouts --sheet data/simulated/ci/cytometry/sample_sheet.csv --out results/cyto
python -m helpers.cytometry scrub --fcs raw.fcs --out-dir shareable/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..cli import run_command
from ..io import write_table

__all__ = ["main"]


def _gate(args: argparse.Namespace) -> int:
    from .fcs import parse_spillover
    from .gating import gate_files

    spill = None
    if args.spillover:
        m = pd.read_csv(args.spillover)
        spill = parse_spillover(",".join([str(m.shape[1]), *m.columns, *m.to_numpy().ravel().astype(str)]),
                                path=args.spillover)  # fmt: skip
    stats = gate_files(args.fcs, args.gates, spillover=spill)
    write_table(stats[["file", "gate", "count", "percent_parent"]], args.out)
    print(f"{len(args.fcs)} file(s), {stats['gate'].nunique()} gate(s) -> {args.out}")
    return 0


def _readouts(args: argparse.Namespace) -> int:
    from .contract import load_panels, load_sample_sheet
    from .readouts import feature_dictionary, process_files, sample_features

    sheet = load_sample_sheet(args.sheet)
    folder = Path(args.sheet).parent
    gating = args.gating or next((str(folder / n) for n in ("gating.yaml",) if (folder / n).is_file()), "aml_functional")
    if (folder / "panels.csv").is_file():
        load_panels(folder / "panels.csv")
    samples = pd.read_csv(args.samples) if args.samples else None
    res = process_files(sheet, gating)
    feats = sample_features(res, sheet, samples)
    out = Path(args.out)
    write_table(feats, out / "features.csv")
    write_table(feature_dictionary(feats.columns), out / "features_dictionary.csv")
    write_table(res["stats"], out / "population_stats.csv")
    write_table(res["mfi"], out / "mfi.csv")
    write_table(res["qc"], out / "qc.csv")
    print(f"{len(sheet)} file(s), {len(feats)} sample(s) -> {out}")
    return 0


def _scrub(args: argparse.Namespace) -> int:
    from ..errors import DataContractError
    from .contract import load_sample_sheet
    from .fcs import read_fcs, write_fcs
    from .privacy import tube_ids

    # Copies are named by sample id: the instrument's file name may itself carry the patient's name.
    if args.sheet:
        sheet = load_sample_sheet(args.sheet)
        by_path = dict(zip((Path(p).resolve() for p in sheet["path"]), tube_ids(sheet), strict=True))
        files = [Path(f) for f in args.fcs] if args.fcs else [Path(p) for p in sheet["path"]]
        names = []
        for f in files:
            if f.resolve() not in by_path:
                raise DataContractError(args.sheet, f"FCS file {f.name!r} is not listed in the sample sheet")
            names.append(by_path[f.resolve()])
    else:
        if not args.fcs or not args.sample_ids or len(args.sample_ids) != len(args.fcs):
            raise DataContractError(None, "scrub names its copies by sample id: give --sheet, or one --sample-ids "
                                          "value per --fcs file")  # fmt: skip
        files, names = [Path(f) for f in args.fcs], list(args.sample_ids)
    from ..safepaths import check_name

    out = Path(args.out_dir)
    inputs = {f.resolve() for f in files}
    targets = [out / f"{check_name(n, what='sample id')}.fcs" for n in names]
    for f, t in zip(files, targets, strict=True):
        if t.resolve() in inputs or (t.exists() and t.resolve().samefile(f)):
            raise DataContractError(t, f"scrub would write over its input {f.name!r}: choose another --out-dir")
    for f, t in zip(files, targets, strict=True):
        write_fcs(read_fcs(f), t)
    print(f"{len(files)} file(s) written without identifying keywords, named by sample id -> {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (documented in docs/cytometry.md)."""
    p = argparse.ArgumentParser(prog="python -m helpers.cytometry", description="Functional flow cytometry of DREAM.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gate", help="apply a Gating-ML 2.0 file or a YAML strategy to FCS files",
                       description="Gate FCS files; writes one row per file and gate: file, gate, count, "
                                   "percent_parent.")  # fmt: skip
    g.add_argument("--fcs", nargs="+", required=True, metavar="FILE", help="FCS 2.0/3.0/3.1 files to gate")
    g.add_argument("--gates", required=True,
                   help="Gating-ML 2.0 XML (any gate type and transform of the standard), a YAML strategy file, or "
                        "the name of a strategy shipped with the package (e.g. aml_functional)")  # fmt: skip
    g.add_argument("--out", required=True, help="CSV to write (file, gate, count, percent_parent)")
    g.add_argument("--spillover", help="CSV spillover matrix (header = detector names) replacing the files' own; "
                                       "YAML strategies only")  # fmt: skip
    g.set_defaults(func=_gate)
    r = sub.add_parser("readouts", help="functional read-outs per sample from a sample sheet",
                       description="Process every file of a sample sheet (QC, compensation, gating, MFIs) and write "
                                   "features.csv, features_dictionary.csv, population_stats.csv, mfi.csv and qc.csv.")
    r.add_argument("--sheet", required=True, help="sample_sheet.csv (file, sample_id, panel, condition, ven_um, aza_um)")
    r.add_argument("--gating", help="YAML strategy (default: gating.yaml beside the sheet, else aml_functional)")
    r.add_argument("--samples", help="the cohort's samples.csv, to add patient_id and timepoint")
    r.add_argument("--out", required=True, help="output folder")
    r.set_defaults(func=_readouts)
    s = sub.add_parser("scrub", help="copy FCS files without identifying keywords",
                       description="Rewrite FCS files keeping only channel and acquisition keywords on an allow-list "
                                   "($OP, $DATE, $SRC, $FIL, $COM, $CYTSN, vendor free text... are dropped); copies "
                                   "are named <sample_id>_<panel>_<condition>.fcs from the sample sheet, never by "
                                   "the instrument's file name, and never over an input.")  # fmt: skip
    s.add_argument("--sheet", help="sample_sheet.csv that names the files (default for --fcs: all its files)")
    s.add_argument("--fcs", nargs="+", metavar="FILE", help="FCS files to copy without identifiers")
    s.add_argument("--sample-ids", nargs="+", metavar="ID", help="without --sheet: the name of each copy, in order")
    s.add_argument("--out-dir", required=True, help="folder for the scrubbed copies (named by sample id)")
    s.set_defaults(func=_scrub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; a data-contract violation exits with status 2 and a one-line message."""
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
