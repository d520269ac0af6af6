"""Command line of the cytometry axis: ``python -m helpers.cytometry {gate, readouts, proliferation, scrub} ...``.

Examples
--------
python -m helpers.cytometry gate --fcs a.fcs b.fcs --gates gates.xml --out stats.csv
python -m helpers.cytometry gate --fcs sample.fcs --gates session.wsp --out stats.csv
python -m helpers.cytometry proliferation --fcs d5_untreated.fcs d5_ven.fcs --channel CFSE --reference day0.fcs \
    --unstained unstained.fcs --out prolif.csv
python -m helpers.cytometry readouts --sheet data/simulated/ci/cytometry/sample_sheet.csv --out results/cyto
python -m helpers.cytometry readouts --sheet sample_sheet.csv --gating session.wsp --out results/cyto
python -m helpers.cytometry scrub --fcs raw.fcs --out-dir shareable/
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import run_command
from ..errors import DataContractError
from ..io import write_table

__all__ = ["main"]

# Only the standard library and the light helpers modules at import time: each subcommand imports what it needs
# (pandas, FlowKit...), so that --help answers at once.


def _gate(args: argparse.Namespace) -> int:
    import pandas as pd

    from .fcs import parse_spillover
    from .gating import gate_files

    spill = None
    if args.spillover:
        m = pd.read_csv(args.spillover)
        spill = parse_spillover(",".join([str(m.shape[1]), *m.columns, *m.to_numpy().ravel().astype(str)]),
                                path=args.spillover)  # fmt: skip
    panel = None
    if args.panels or args.panel:
        from .contract import load_panels

        if not (args.panels and args.panel):
            raise DataContractError(args.panels or args.panel, "--panels and --panel go together (panels.csv and the "
                                                               "name of the files' panel)")  # fmt: skip
        panels = load_panels(args.panels)
        if args.panel not in panels:
            raise DataContractError(args.panels, f"panel '{args.panel}' is not defined (panels: {', '.join(panels)})",
                                    column="panel")  # fmt: skip
        panel = panels[args.panel]
    if Path(args.gates).suffix.lower() == ".wsp":
        from .gating import gate_workspace

        if spill is not None:
            raise DataContractError(args.gates, "--spillover applies to YAML strategies; a FlowJo workspace carries "
                                                "its own compensation")  # fmt: skip
        stats = pd.concat([gate_workspace(args.gates, f, panel=panel, panel_name=args.panel or "") for f in args.fcs],
                          ignore_index=True)  # fmt: skip
    else:
        stats = gate_files(args.fcs, args.gates, spillover=spill, panel=panel, panel_name=args.panel or "")
    write_table(stats[["file", "gate", "count", "percent_parent"]], args.out)
    print(f"{len(args.fcs)} file(s), {stats['gate'].nunique()} gate(s) -> {args.out}")
    return 0


def _readouts(args: argparse.Namespace) -> int:
    import pandas as pd

    from .contract import load_panels, load_sample_sheet
    from .features import feature_dictionary
    from .readouts import process_files, sample_features

    sheet = load_sample_sheet(args.sheet)
    folder = Path(args.sheet).parent
    gating = args.gating or next((str(folder / n) for n in ("gating.yaml",) if (folder / n).is_file()), "aml_functional")
    panels_csv = Path(args.panels) if args.panels else folder / "panels.csv"
    if not panels_csv.is_file():
        raise DataContractError(panels_csv, "panel definition not found (panels.csv beside the sheet, or --panels)")
    panels = load_panels(panels_csv)
    unknown = sorted(set(sheet["panel"]) - set(panels))
    if unknown:
        raise DataContractError(args.sheet, f"panel '{unknown[0]}' is not defined in {panels_csv.name}", column="panel")
    samples = pd.read_csv(args.samples) if args.samples else None
    out = Path(args.out)
    if Path(gating).suffix.lower() == ".wsp":
        from .workspace import missing_gates, workspace_readouts

        res = workspace_readouts(sheet, gating, panels=panels)
        lacking = missing_gates(res["stats"])
    else:
        res, lacking = process_files(sheet, gating, panels=panels), []
    if not lacking:
        feats = sample_features(res, sheet, samples)
        write_table(feats, out / "features.csv")
        write_table(feature_dictionary(feats.columns), out / "features_dictionary.csv")
    write_table(res["stats"], out / "population_stats.csv")
    write_table(res["mfi"], out / "mfi.csv")
    write_table(res["qc"], out / "qc.csv")
    what = f"no features.csv: the workspace lacks gate(s) {', '.join(lacking)}" if lacking else f"{len(feats)} sample(s)"
    print(f"{len(sheet)} file(s), {what} -> {out}")
    return 0


def _proliferation(args: argparse.Namespace) -> int:
    from .proliferation import proliferation_table

    table = proliferation_table(args.fcs, args.channel, args.reference, unstained=args.unstained,
                                dilution=args.dilution, max_generations=args.max_generations,
                                min_fsc=None if args.min_fsc < 0 else args.min_fsc)  # fmt: skip
    write_table(table, args.out)
    print(f"{len(args.fcs)} file(s), dye {args.channel} -> {args.out}")
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
    """Build the argument parser of ``python -m helpers.cytometry`` (documented in docs/cytometry.md).

    Returns
    -------
    argparse.ArgumentParser
        The parser and its sub-commands.
    """
    p = argparse.ArgumentParser(prog="python -m helpers.cytometry", description="Functional flow cytometry of DREAM.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gate", help="apply a Gating-ML 2.0 file or a YAML strategy to FCS files",
                       description="Gate FCS files; writes one row per file and gate: file, gate, count, "
                                   "percent_parent.")  # fmt: skip
    g.add_argument("--fcs", nargs="+", required=True, metavar="FILE", help="FCS 2.0/3.0/3.1 files to gate")
    g.add_argument("--gates", required=True,
                   help="Gating-ML 2.0 XML (any gate type and transform of the standard), a FlowJo workspace (.wsp, "
                        "read by FlowKit; each FCS file is matched to its sample in the workspace by name), a YAML "
                        "strategy file, or the name of a strategy shipped with the package (e.g. aml_functional)")  # fmt: skip
    g.add_argument("--out", required=True, help="CSV to write (file, gate, count, percent_parent)")
    g.add_argument("--spillover", help="CSV spillover matrix (header = detector names) replacing the files' own; "
                                       "YAML strategies only")  # fmt: skip
    g.add_argument("--panels", help="panels.csv (panel, marker, channel): check every file against --panel first "
                                    "(stain synonyms accepted, unknown or duplicated stains rejected)")  # fmt: skip
    g.add_argument("--panel", help="the panel of the files, a name in --panels")
    g.set_defaults(func=_gate)
    r = sub.add_parser("readouts", help="functional read-outs per sample from a sample sheet",
                       description="Process every file of a sample sheet (QC, compensation, gating, MFIs) and write "
                                   "features.csv, features_dictionary.csv, population_stats.csv, mfi.csv and qc.csv.")
    r.add_argument("--sheet", required=True, help="sample_sheet.csv (file, sample_id, panel, condition, ven_um, aza_um)")
    r.add_argument("--gating", help="YAML strategy or FlowJo workspace (.wsp, read by FlowKit; FlowJo's stored counts "
                                    "are checked) (default: gating.yaml beside the sheet, else aml_functional)")
    r.add_argument("--samples", help="the cohort's samples.csv, to add patient_id and timepoint")
    r.add_argument("--panels", help="panels.csv (default: beside the sheet); every file is checked against its panel")
    r.add_argument("--out", required=True, help="output folder")
    r.set_defaults(func=_readouts)
    pr = sub.add_parser("proliferation", help="dye-dilution proliferation (CFSE, CellTrace) per file",
                        description="Fit generation peaks (spacing fixed by the dilution factor) to the dye channel of "
                                    "each file against a day-0 reference; writes one row per file: file, events, "
                                    "median, mean_divisions, division_index, proliferation_index, percent_divided, "
                                    "precursor_frequency (Roederer 2011), then expansion_index, median_divisions, "
                                    "peak_shift and the % of cells per generation.")  # fmt: skip
    pr.add_argument("--fcs", nargs="+", required=True, metavar="FILE", help="cultured files to measure")
    pr.add_argument("--channel", required=True, help="the dye channel: marker ($PnS, e.g. CFSE) or detector ($PnN)")
    pr.add_argument("--reference", required=True, metavar="DAY0.fcs", help="day-0 file: stained, undivided cells")
    pr.add_argument("--unstained", metavar="FILE", help="unstained control (its median is the autofluorescence)")
    pr.add_argument("--dilution", type=float, default=2.0, help="dye ratio mother / daughter (default 2)")
    pr.add_argument("--max-generations", type=int, default=10, help="most generations fitted (default 10)")
    pr.add_argument("--min-fsc", type=float, default=35000.0,
                    help="debris gate: events with FSC-A below this are left out (default 35000; -1 keeps all)")
    pr.add_argument("--out", required=True, help="CSV to write")
    pr.set_defaults(func=_proliferation)
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
    """Run the command line; a data-contract violation exits with status 2 and a one-line message.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (0 success, 2 data-contract error).
    """
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
