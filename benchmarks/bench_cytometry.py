#!/usr/bin/env python
"""Benchmark of the cytometry pipeline: read + compensate + transform + gate, events per second and peak memory.

Two transforms: arcsinh(x / 150) (the cohort's strategy) and logicle (the same gates moved to the Gating-ML logicle
scale, ``Strategy.with_logicle``; the project's logicle interpolates an exact table, FlowKit solves every value).
Compares the project's streaming pipeline (``helpers.cytometry.gate_file`` with the YAML strategy: numpy reading of
the DATA segment, one matrix product for compensation, arcsinh of the gated channels only, each gate tested on its
parent's events) with FlowKit's own per-sample pipeline (``Sample`` + ``GatingStrategy.gate_sample`` on the same
strategy compiled to Gating-ML), measured in the same run on the same files.

Cases: (1) 10 million events in 10 FCS files built from the simulated cohort's events (with their spillover);
(2) many small files: 400 files of 20,000 events (the demo cohort's 1,422 tubes are of this size), the per-file
overhead case; (3) every file of the simulated cohort (``data/simulated/full`` if present, else ``data/simulated/ci``).
The machine's load average is printed with the table (on a shared machine read the ratios to FlowKit).
Memory: tracemalloc peak while processing the first file, and over all files: streaming keeps them equal.

Usage: ``python benchmarks/bench_cytometry.py [--quick]`` (quick: 2 million events, fewer FlowKit files).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import flowio  # noqa: E402

from helpers.cytometry import compile_gatingml, gate_file, load_strategy, read_fcs  # noqa: E402
from helpers.cytometry.gating import flowkit_sample  # noqa: E402
from helpers.paths import repo_root  # noqa: E402


def make_files(template: Path, n_events: int, n_files: int, out: Path, seed: int = 0,
               prefix: str = "bench") -> list[Path]:  # fmt: skip
    """FCS files of ``n_events`` events in total, resampled (with 2 % jitter) from a simulated file."""
    src = read_fcs(template)
    rng = np.random.default_rng(seed)
    files = []
    for k in range(n_files):
        n = n_events // n_files
        ev = src.events[rng.integers(0, src.n_events, n)]
        ev = ev * rng.normal(1, 0.02, ev.shape).astype(np.float32)
        path = out / f"{prefix}_{k:03d}.fcs"
        with open(path, "wb") as fh:
            flowio.create_fcs(fh, ev.ravel(), src.channels, opt_channel_names=src.markers,
                              metadata_dict={"$SPILLOVER": src.metadata["$SPILLOVER"]})  # fmt: skip
        files.append(path)
    return files


def run_ours(files: list[Path], strategy) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    for f in files:
        n += gate_file(f, strategy).n_events
    return time.perf_counter() - t0, n


def run_flowkit(files: list[Path], strategy, tmp: Path) -> tuple[float, int]:
    """FlowKit per-sample pipeline: parse the file, compensate with its spillover, transform and gate."""
    d = read_fcs(files[0])
    panel = strategy.for_panel(set(d.markers) | set(d.channels))
    gs = compile_gatingml(panel, dict(zip(d.markers, d.channels, strict=True)))
    t0 = time.perf_counter()
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in files:
            s = flowkit_sample(f)
            gs.gate_sample(s)
            n += s.event_count
    return time.perf_counter() - t0, n


def peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 million events and fewer FlowKit files")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    # Single process, single thread for both pipelines (BLAS threads only add contention on a 10 x 10 compensation).
    with threadpool_limits(1):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    root = repo_root()
    cohort = root / "data/simulated/full"
    if not (cohort / "cytometry" / "sample_sheet.csv").is_file():
        cohort = root / "data/simulated/ci"
    from helpers.simulate import DEFAULT_SEED, ensure_cohort

    ensure_cohort(cohort, scale="full" if cohort.name == "full" else "ci", seed=DEFAULT_SEED, axes=("cytometry",))
    strategy = load_strategy()
    n_total = 2_000_000 if args.quick else 10_000_000
    n_fk = 1 if args.quick else 2
    rows = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        template = cohort / "cytometry" / "fcs" / "DRM001-DX" / "PHENO_untreated.fcs"
        files = make_files(template, n_total, 10, tmp)
        run_ours(files[:1], strategy)  # warm-up: imports, BLAS threads
        t, n = run_ours(files, strategy)
        t_fk, n_fk_ev = run_flowkit(files[:n_fk], strategy, tmp)
        m1 = peak_mb(lambda: run_ours(files[:1], strategy))
        m_all = peak_mb(lambda: run_ours(files, strategy))
        m_fk = peak_mb(lambda: run_flowkit(files[:1], strategy, tmp))
        rows.append(("synthetic 10 files, arcsinh", n, t, n / t, n_fk_ev / t_fk, m1, m_all, m_fk))
        lstrat = strategy.with_logicle()
        run_ours(files[:1], lstrat)  # warm-up: the logicle table
        t, n = run_ours(files, lstrat)
        t_fk, n_fk_ev = run_flowkit(files[:n_fk], lstrat, tmp)
        m1 = peak_mb(lambda: run_ours(files[:1], lstrat))
        m_all = peak_mb(lambda: run_ours(files, lstrat))
        m_fk = peak_mb(lambda: run_flowkit(files[:1], lstrat, tmp))
        rows.append(("synthetic 10 files, logicle", n, t, n / t, n_fk_ev / t_fk, m1, m_all, m_fk))
        n_small = 100 if args.quick else 400
        small = make_files(template, 20_000 * n_small, n_small, tmp, seed=1, prefix="small")
        run_ours(small[:5], lstrat)
        for name, st in (("arcsinh", strategy), ("logicle", lstrat)):
            t, n = run_ours(small, st)
            t_fk, n_fk_ev = run_flowkit(small[: 10 if args.quick else 30], st, tmp)
            m1 = peak_mb(lambda st=st: run_ours(small[:1], st))
            m_all = peak_mb(lambda st=st: run_ours(small[:50], st))
            m_fk = peak_mb(lambda st=st: run_flowkit(small[:1], st, tmp))
            rows.append((f"{n_small} files of 20k, {name}", n, t, n / t, n_fk_ev / t_fk, m1, m_all, m_fk))
        import pandas as pd

        sheet = pd.read_csv(cohort / "cytometry" / "sample_sheet.csv")
        cfiles = [cohort / "cytometry" / f for f in sheet["file"]]
        t, n = run_ours(cfiles, strategy)
        # FlowKit on the tubes of one panel (a compiled Gating-ML is panel-specific), a subset to keep it short.
        pheno = [cohort / "cytometry" / f for f in sheet.loc[sheet["panel"] == "PHENO", "file"]][: 20 if args.quick else 60]
        t_fk, n_fk_ev = run_flowkit(pheno, strategy, tmp)
        m1 = peak_mb(lambda: run_ours(cfiles[:1], strategy))
        m_all = peak_mb(lambda: run_ours(cfiles, strategy))
        m_fk = peak_mb(lambda: run_flowkit(pheno[:1], strategy, tmp))
        rows.append((f"cohort {cohort.name} ({len(cfiles)} files)", n, t, n / t, n_fk_ev / t_fk, m1, m_all, m_fk))
    import os

    print("read + compensate + transform + gate, single process, one BLAS thread; load average "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    head = (f"{'case':<30} {'events':>11} {'ours s':>8} {'ours ev/s':>11} {'FlowKit ev/s':>13} {'ratio':>7} "
            f"{'peak MB 1 file':>15} {'peak MB all':>12} {'FlowKit MB/file':>16}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for case, n, t, eps, fk_eps, m1, m_all, m_fk in rows:
        print(f"{case:<30} {n:>11,d} {t:>8.2f} {eps:>11,.0f} {fk_eps:>13,.0f} {eps / fk_eps:>6.1f}x "
              f"{m1:>15.1f} {m_all:>12.1f} {m_fk:>16.1f}")  # fmt: skip
    print("target: >= 2,000,000 events/s (logicle, 10 M events) and >= 1,000,000 events/s on many small files; peak "
          "memory over all files ~ peak memory of one file (streaming)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
