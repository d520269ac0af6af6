#!/usr/bin/env python
"""Benchmark of the barcoding axis: extraction from FASTQ.gz and error correction.

Prints one table: reads per second to extract and count barcodes from a gzipped FASTQ (single process), next to the
floor measured on the same file in the same run (decompress and parse with dnaio, doing nothing with the reads) and a
per-read Python baseline; and the time to cluster 100,000 distinct barcodes, next to an all-pairs baseline.

Usage: python benchmarks/bench_barcodes.py [--quick] [--reads N] [--barcodes N]
Targets (issue 7): extraction within 2x of the floor; clustering 100,000 barcodes in under 10 s.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import dnaio  # noqa: E402
from rapidfuzz.distance import Hamming  # noqa: E402
from rapidfuzz.process import cdist  # noqa: E402

from helpers.barcodes import BC32_GFP, cluster_barcodes, extract_barcodes  # noqa: E402
from helpers.simulate.barcodes import _reads  # noqa: E402


def make_fastq(path: Path, n_reads: int, *, n_clones: int = 5000, seed: int = 1) -> None:
    """Simulated 88-nt amplicon reads (the cohort simulator's read model), written in batches."""
    rng = np.random.default_rng(seed)
    clones = rng.integers(0, 4, size=(n_clones, 32), dtype=np.uint8)
    freq = rng.lognormal(0, 1, n_clones)
    freq /= freq.sum()
    batch = 200_000
    with gzip.open(path, "wb", compresslevel=1) as gz:
        done = 0
        while done < n_reads:
            n = min(batch, n_reads - done)
            seq, qual = _reads(rng, clones, freq, n, stagger=1)
            n = seq.shape[0]
            head = np.frombuffer(b"@BENCH:000000000\n", np.uint8)
            rec = np.concatenate([np.broadcast_to(head, (n, head.size)), seq, np.full((n, 3), [10, 43, 10], np.uint8),
                                  qual, np.full((n, 1), 10, np.uint8)], axis=1)  # fmt: skip
            gz.write(rec.tobytes())
            done += n


def floor_parse(path: Path) -> int:
    n = 0
    with dnaio.open(path) as reader:
        for _ in reader:
            n += 1
    return n


def baseline_python(path: Path, limit: int) -> int:
    """Per-read Python loop: mean quality, a regular expression for the backbone, a dict of counts."""
    rx = re.compile(BC32_GFP.replace("N", "."))
    wob = [i for i, c in enumerate(BC32_GFP) if c == "N"]
    counts: dict[str, int] = {}
    n = 0
    with dnaio.open(path) as reader:
        for rec in reader:
            n += 1
            if n > limit:
                break
            q = rec.qualities
            if (sum(q.encode()) - 33 * len(q)) / len(q) < 30:
                continue
            m = rx.search(rec.sequence)
            if m:
                bc = "".join(m.group(0)[i] for i in wob)
                counts[bc] = counts.get(bc, 0) + 1
    return min(n, limit)


def make_barcodes(n: int, seed: int = 2) -> pd.Series:
    """n distinct 32-nt barcodes: 20 % parents, the rest one or two substitutions away, with realistic counts."""
    rng = np.random.default_rng(seed)
    n_par = n // 5
    par = rng.integers(0, 4, size=(n_par, 32), dtype=np.uint8)
    kids = par[rng.integers(0, n_par, 3 * n)].copy()
    for _ in range(2):
        pos = rng.integers(0, 32, kids.shape[0])
        kids[np.arange(kids.shape[0]), pos] = (kids[np.arange(kids.shape[0]), pos] + rng.integers(1, 4, kids.shape[0])) % 4
    allseq = np.vstack([par, kids])
    s = np.frombuffer(b"ACGT", np.uint8)[allseq].view("S32").ravel().astype(str)
    s = pd.unique(s)[:n]
    counts = np.where(np.arange(len(s)) < n_par, rng.lognormal(5, 1, len(s)).astype(int) + 10, rng.integers(1, 4, len(s)))
    return pd.Series(counts, index=s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 million reads and 20,000 barcodes")
    ap.add_argument("--reads", type=int, default=None, help="reads in the FASTQ (default 10 million)")
    ap.add_argument("--barcodes", type=int, default=None, help="distinct barcodes to cluster (default 100,000)")
    a = ap.parse_args()
    n_reads = a.reads or (1_000_000 if a.quick else 10_000_000)
    n_bc = a.barcodes or (20_000 if a.quick else 100_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "bench.fastq.gz"
        make_fastq(f, n_reads)
        t = time.perf_counter()
        n = floor_parse(f)
        t_floor = time.perf_counter() - t
        rows.append(("decompress + parse (dnaio), floor", n, t_floor, n / t_floor, 1.0))
        t = time.perf_counter()
        res = extract_barcodes(f, BC32_GFP, min_mean_quality=30, max_mismatches=1)
        t_ex = time.perf_counter() - t
        assert res.n_reads == n
        rows.append(("extract + count (helpers.barcodes)", n, t_ex, n / t_ex, t_ex / t_floor))
        lim = min(n, 300_000)
        t = time.perf_counter()
        m = baseline_python(f, lim)
        t_py = time.perf_counter() - t
        rows.append(("per-read Python loop (baseline)", m, t_py, m / t_py, (t_py / m) / (t_floor / n)))
    counts = make_barcodes(n_bc)
    for metric in ("hamming", "levenshtein"):
        t = time.perf_counter()
        c = cluster_barcodes(counts, method="message_passing", distance=2, ratio=5, metric=metric)
        t_cl = time.perf_counter() - t
        rows.append((f"cluster {metric} d=2 (message passing)", len(counts), t_cl, len(counts) / t_cl, np.nan))
    sub = list(counts.index[:5000])
    t = time.perf_counter()
    cdist(sub, sub, scorer=Hamming.distance, score_cutoff=2, workers=1, dtype=np.uint8)
    t_all = (time.perf_counter() - t) * (len(counts) / len(sub)) ** 2
    rows.append(("all-pairs Hamming (rapidfuzz cdist), extrapolated", len(counts), t_all, len(counts) / t_all, np.nan))
    for r in rows[3:5]:
        rows[rows.index(r)] = (*r[:4], r[2] / t_all)
    df = pd.DataFrame(rows, columns=["step", "items", "seconds", "items_per_s", "ratio_to_baseline"])
    print(f"extraction: {n_reads:,} gzipped 88-nt reads, single process; clustering: {len(counts):,} distinct barcodes")
    print("ratio: extraction rows against the dnaio floor (target <= 2); clustering rows against all-pairs")
    with pd.option_context("display.width", 160, "display.float_format", "{:,.3f}".format):
        print(df.to_string(index=False))
    print(f"{c.nunique():,} clusters; {res.n_matched:,} reads matched ({res.n_matched / res.n_reads:.1%})")


if __name__ == "__main__":
    main()
