r"""Command line of the barcoding axis.

Examples
--------
  python -m helpers.barcodes count --fastq a.fastq.gz b.fastq.gz --pattern ACTNNCGANN...CGANN \
      --min-mean-quality 30 --max-mismatches 0 --out counts.tsv
  python -m helpers.barcodes count --fastq s1.fastq.gz --pattern GTGGAAAGGACGAAACACCG...GTTTTAGAGCTAGAAATAGC \
      --min-mean-quality none --min-base-quality 30 --cluster message_passing --distance 1 --ratio 3 --out counts.tsv
  python -m helpers.barcodes diversity --counts counts.tsv --out diversity.tsv
  python -m helpers.barcodes diff --counts counts_bm.tsv --samples sample_sheet.csv --treated high_dose \
      --control vehicle --out diff.tsv
  python -m helpers.barcodes resistance --counts counts_bm.tsv --samples sample_sheet.csv --treated high_dose \
      --control vehicle --out calls.tsv --summary pdx.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import run_command
from ..errors import DataContractError
from ..io import write_table

# Only the standard library and the light helpers modules at import time: each subcommand imports what it needs
# (pandas, rapidfuzz, numba...), so that --help answers at once. The clustering methods are spelled out for the
# parser's choices; tests/unit/test_conventions.py checks that they are helpers.barcodes.correct.CLUSTER_METHODS.
CLUSTER_METHODS = ("message_passing", "closest_abundant", "sphere", "directional")


def _quality(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def _sample_name(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".fastq", ".fq"):
        name = name.removesuffix(suffix)
    return name


def cmd_count(a: argparse.Namespace) -> int:
    """Run ``count``: extract barcodes from FASTQ files, optionally error-correct them, write the counts.

    Parameters
    ----------
    a
        Parsed arguments of the ``count`` subcommand (:func:`build_parser`).

    Returns
    -------
    int
        0; the counts (``barcode, sample, count``) are written to ``--out``, one summary line per sample to stderr.

    Raises
    ------
    SystemExit
        ``--sample`` names do not match the files one to one, or are not unique.
    """
    import pandas as pd

    from .correct import cluster_barcodes
    from .extract import extract_barcodes
    from .patterns import parse_pattern

    pattern = parse_pattern(a.pattern, barcode_length=a.barcode_length, length_tolerance=a.length_tolerance)
    samples = a.sample or [_sample_name(f) for f in a.fastq]
    if len(samples) != len(a.fastq):
        raise SystemExit(f"--sample gives {len(samples)} names for {len(a.fastq)} files")
    if len(set(samples)) != len(samples):
        raise SystemExit("sample names must be unique (give --sample)")
    parts, reports = [], []
    for f, s in zip(a.fastq, samples, strict=True):
        res = extract_barcodes(f, pattern, min_mean_quality=a.min_mean_quality, max_mismatches=a.max_mismatches,
                               min_base_quality=a.min_base_quality,
                               max_low_quality_fraction=a.max_low_quality_fraction)  # fmt: skip
        parts.append(pd.DataFrame({"barcode": res.counts.index, "sample": s, "count": res.counts.to_numpy()}))
        reports.append({"sample": s, **res.summary()})
    counts = pd.concat(parts, ignore_index=True)
    if a.cluster:
        pooled = counts.groupby("barcode")["count"].sum()
        centroid = cluster_barcodes(pooled, method=a.cluster, distance=a.distance, ratio=a.ratio, metric=a.metric)
        counts["barcode"] = counts["barcode"].map(centroid)
        counts = counts.groupby(["barcode", "sample"], as_index=False, sort=False)["count"].sum()
    if a.length_filter and pattern.kind == "flanks":
        ok = (counts["barcode"].str.len() - pattern.barcode_length).abs() <= pattern.length_tolerance
        counts = counts[ok]
    counts = counts[counts["count"] >= a.min_count]
    counts = counts.sort_values(["sample", "count", "barcode"], ascending=[True, False, True], ignore_index=True)
    write_table(counts, a.out)
    if a.report:
        write_table(pd.DataFrame(reports), a.report)
    for r in reports:
        print(f"{r['sample']}: {r['reads']} reads, {r['matched']} matched ({100 * r['match_rate']:.1f} %), "
              f"{r['distinct_barcodes']} distinct barcodes before correction", file=sys.stderr)  # fmt: skip
    return 0


def cmd_diversity(a: argparse.Namespace) -> int:
    """Run ``diversity``: diversity indices per sample from a long counts table.

    Parameters
    ----------
    a
        Parsed arguments of the ``diversity`` subcommand (:func:`build_parser`).

    Returns
    -------
    int
        0; the table of :func:`helpers.barcodes.diversity.diversity_table` (one row per sample) is written to
        ``--out``.

    Raises
    ------
    DataContractError
        The counts file is missing, lacks ``barcode``, ``sample`` or ``count``, or has a negative or non-numeric
        count.
    """
    import pandas as pd

    from .diversity import diversity_table

    path = Path(a.counts)
    sep = "\t" if path.suffix == ".tsv" else ","
    try:
        df = pd.read_csv(path, sep=sep)
    except FileNotFoundError:
        raise DataContractError(path, "counts file not found") from None
    missing = [c for c in ("barcode", "sample", "count") if c not in df.columns]
    if missing:
        raise DataContractError(path, f"missing column(s) {', '.join(missing)}", column=missing[0])
    if (pd.to_numeric(df["count"], errors="coerce") < 0).any() or pd.to_numeric(df["count"], errors="coerce").isna().any():
        bad = int(df.index[pd.to_numeric(df["count"], errors="coerce").isna() | (pd.to_numeric(df["count"], errors="coerce") < 0)][0])
        raise DataContractError(path, "count must be a non-negative number", row=bad + 2, column="count")
    m = df.pivot_table(index="barcode", columns="sample", values="count", aggfunc="sum", fill_value=0)
    m = m[m.sum(axis=1) >= 0]
    if a.min_count > 0:
        m = m.where(m >= a.min_count, 0)
    div = diversity_table(m).reset_index()
    write_table(div, a.out)
    return 0


def _load(a: argparse.Namespace):
    from .tables import collapse_replicates, load_design, read_count_table

    counts = read_count_table(a.counts)
    design = load_design(a.samples, samples=counts.columns)
    return collapse_replicates(counts, design, method=a.collapse)


def cmd_diff(a: argparse.Namespace) -> int:
    """Run ``diff``: differential clone abundance between two arms, written per barcode.

    Parameters
    ----------
    a
        Parsed arguments of the ``diff`` subcommand (:func:`build_parser`).

    Returns
    -------
    int
        0; the table of :func:`helpers.barcodes.diff.differential_abundance` sorted by p-value is written to
        ``--out``, a one-line summary to stdout.

    Raises
    ------
    DataContractError
        The count table or the design sheet breaks its contract.
    """
    from .diff import differential_abundance

    counts, units = _load(a)
    res = differential_abundance(counts, units, treated=a.treated, control=a.control, tissue=a.tissue,
                                 timepoint=a.timepoint, normalization=a.normalization)  # fmt: skip
    tab = res.table.sort_values(["p_value", "barcode"], ignore_index=True)
    write_table(tab, a.out)
    print(f"{len(tab)} barcodes tested ({'paired' if res.paired else 'endpoint'} design, "
          f"{int(tab['n_treated'].iloc[0])} {a.treated} vs {int(tab['n_control'].iloc[0])} {a.control} mice); "
          f"{int((tab['q_value'] <= 0.05).sum())} at q <= 0.05")  # fmt: skip
    return 0


def cmd_resistance(a: argparse.Namespace) -> int:
    """Run ``resistance``: call pre-existing resistant clones and test each PDX against its control arm.

    Parameters
    ----------
    a
        Parsed arguments of the ``resistance`` subcommand (:func:`build_parser`).

    Returns
    -------
    int
        0; the per-barcode calls are written to ``--out`` (``pdx_id, barcode, called, q_value, q_expansion``, ...),
        the PDX-level table to ``--summary``, and ``pdx_p_value=...`` is the last line of stdout.

    Raises
    ------
    DataContractError
        The count table or the design sheet breaks its contract.
    """
    from .preexisting import resistance_calls

    counts, units = _load(a)
    res = resistance_calls(counts, units, treated=a.treated, control=a.control, tissue=a.tissue,
                           timepoint=a.timepoint, fdr=a.fdr, min_mice=a.min_mice, max_perm=a.max_perm,
                           seed=a.seed, normalization=a.normalization)  # fmt: skip
    b = res.barcodes.rename(columns={"resistant": "called"})
    first = ["pdx_id", "barcode", "called", "q_value", "q_expansion"]
    write_table(b[first + [c for c in b.columns if c not in first]], a.out)
    if a.summary:
        write_table(res.pdx, a.summary)
    for r in res.pdx.itertuples(index=False):
        print(f"{r.pdx_id}: {r.n_resistant} of {r.n_barcodes} clones called resistant "
              f"({r.n_treated} {a.treated} vs {r.n_vehicle} {a.control} mice)")  # fmt: skip
    print(f"pdx_p_value={res.pdx['p_value'].min():.6g}")
    return 0


def _design_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--counts", required=True, metavar="COUNTS",
                   help="count table: wide (barcode rows, one column per library) or long (barcode, sample, count); "
                   "comma, tab or semicolon separated (read from the content)")  # fmt: skip
    p.add_argument("--samples", required=True, metavar="SHEET",
                   help="design sheet: sample, mouse, arm, tissue, timepoint, pcr_replicate [, baseline, control, "
                   "burden_pct, pdx_id] (docs/barcodes.md)")  # fmt: skip
    p.add_argument("--treated", required=True, metavar="ARM", help="treated arm (any name in the sheet's arm column)")
    p.add_argument("--control", required=True, metavar="ARM", help="control arm (e.g. vehicle)")
    p.add_argument("--tissue", default=None, metavar="T", help="endpoint tissue, when the sheet has several")
    p.add_argument("--timepoint", default=None, help="endpoint timepoint, when the sheet has several")
    p.add_argument("--collapse", choices=("sum", "truncated_mean"), default="sum",
                   help="how PCR replicates of a mouse are merged (default sum)")
    p.add_argument("--normalization", choices=("none", "TMM"), default="none",
                   help="library-size offsets (none) or edgeR TMM factors (default none)")
    p.add_argument("--out", required=True, metavar="FILE", help="output table (.tsv or .csv)")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``python -m helpers.barcodes`` (count, diversity, diff, resistance).

    Returns
    -------
    argparse.ArgumentParser
        The parser; each subcommand's ``func`` default is the ``cmd_*`` function that runs it.
    """
    ap = argparse.ArgumentParser(prog="python -m helpers.barcodes", description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("count", help="extract and count barcodes from FASTQ(.gz) files",
                       description="Extract barcodes by the library's read pattern and count them per file. Output "
                       "columns: barcode, sample, count. Uncorrected unless --cluster is given.")  # fmt: skip
    c.add_argument("--fastq", nargs="+", required=True, metavar="FILE", help="FASTQ or FASTQ.gz files, one per sample")
    c.add_argument("--sample", nargs="+", metavar="NAME", help="sample names (default: file names without suffixes)")
    c.add_argument("--pattern", required=True, metavar="BACKBONE_OR_FLANKS",
                   help="backbone with N at wobble positions (genBaRcode), or UPSTREAM...DOWNSTREAM flanks (pycashier)")
    c.add_argument("--barcode-length", type=int, default=20, help="barcode length between flanks (default 20)")
    c.add_argument("--length-tolerance", type=int, default=1,
                   help="accepted deviation from --barcode-length for flank patterns (default 1)")
    c.add_argument("--min-mean-quality", type=_quality, default=30.0, metavar="Q",
                   help="reject reads whose mean Phred quality is below Q; 'none' to skip (default 30)")
    c.add_argument("--min-base-quality", type=int, default=None, metavar="Q",
                   help="with --max-low-quality-fraction: fastp-style filter on bases below Q (default off)")
    c.add_argument("--max-low-quality-fraction", type=float, default=0.2,
                   help="largest fraction of bases below --min-base-quality (default 0.2)")
    c.add_argument("--max-mismatches", type=int, default=0, metavar="N",
                   help="mismatches allowed in the fixed positions (whole backbone, or per flank) (default 0)")
    c.add_argument("--cluster", choices=CLUSTER_METHODS, default=None,
                   help="error-correct barcodes pooled over all files with this method (default: no correction)")
    c.add_argument("--distance", type=int, default=1, help="clustering distance (default 1)")
    c.add_argument("--ratio", type=float, default=5.0, help="message passing count ratio (default 5)")
    c.add_argument("--metric", choices=("hamming", "levenshtein"), default="levenshtein",
                   help="clustering distance metric (default levenshtein)")
    c.add_argument("--min-count", type=int, default=1, help="drop barcodes with fewer reads in a sample (default 1)")
    c.add_argument("--no-length-filter", dest="length_filter", action="store_false",
                   help="keep clustered flank barcodes of any length (default: length +/- tolerance)")
    c.add_argument("--report", metavar="FILE", help="write reads, matches and rejections by reason per sample")
    c.add_argument("--out", required=True, metavar="FILE", help="output table (.tsv or .csv)")
    c.set_defaults(func=cmd_count)
    d = sub.add_parser("diversity", help="diversity indices per sample from a counts table",
                       description="Richness, Shannon, Simpson, inverse Simpson, Gini and Hill numbers per sample "
                       "from a table with columns barcode, sample, count.")  # fmt: skip
    d.add_argument("--counts", required=True, metavar="FILE", help="counts table (.tsv or .csv)")
    d.add_argument("--min-count", type=int, default=0, help="treat counts below this as absent (default 0)")
    d.add_argument("--out", required=True, metavar="FILE", help="output table (.tsv or .csv)")
    d.set_defaults(func=cmd_diversity)
    f = sub.add_parser("diff", help="differential clone abundance between two arms (edgeR quasi-likelihood GLM)",
                       description="Negative-binomial GLM with between-mouse dispersion (edgeR glmQLFit/glmQLFTest "
                       "via edgepython), PCR replicates merged per mouse, library-size offsets. Output columns: "
                       "barcode, log_fc, log_cpm, f, p_value, q_value, baseline_cpm, n_treated, n_control.")  # fmt: skip
    _design_args(f)
    f.set_defaults(func=cmd_diff)
    r = sub.add_parser("resistance", help="call pre-existing resistant clones and test the PDX against its control arm",
                       description="Clones that expand under treatment beyond the control arm (one-sided BH q) in "
                       "all but one treated mouse; PDX-level permutation p-value of arm labels (last stdout line "
                       "pdx_p_value=...). Output columns: pdx_id, barcode, called, q_value, q_expansion, ...")  # fmt: skip
    _design_args(r)
    r.add_argument("--fdr", type=float, default=0.05, help="BH level of the clone calls (default 0.05)")
    r.add_argument("--min-mice", type=int, default=None,
                   help="treated mice in which a clone must exceed every control mouse (default all but one)")
    r.add_argument("--max-perm", type=int, default=5000,
                   help="arm assignments of the permutation tests: all when fewer, else a seeded sample (default 5000)")
    r.add_argument("--seed", type=int, default=0, help="seed of sampled assignments (default 0)")
    r.add_argument("--summary", metavar="FILE", help="write the PDX-level table (p-value, calls) to FILE")
    r.set_defaults(func=cmd_resistance)
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
