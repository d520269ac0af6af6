"""Command line of the barcoding axis.

Examples
--------
  python -m helpers.barcodes count --fastq a.fastq.gz b.fastq.gz --pattern ACTNNCGANN...CGANN \\
      --min-mean-quality 30 --max-mismatches 0 --out counts.tsv
  python -m helpers.barcodes count --fastq s1.fastq.gz --pattern GTGGAAAGGACGAAACACCG...GTTTTAGAGCTAGAAATAGC \\
      --min-mean-quality none --min-base-quality 30 --cluster message_passing --distance 1 --ratio 3 --out counts.tsv
  python -m helpers.barcodes diversity --counts counts.tsv --out diversity.tsv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ..cli import run_command
from ..errors import DataContractError
from ..io import write_table
from .correct import CLUSTER_METHODS, cluster_barcodes
from .diversity import diversity_table
from .extract import extract_barcodes
from .patterns import parse_pattern


def _quality(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def _sample_name(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".fastq", ".fq"):
        name = name.removesuffix(suffix)
    return name


def cmd_count(a: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
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
    return ap


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
