#!/usr/bin/env python
"""Benchmark of the cytometry pipeline: read + compensate + transform + gate, events per second and peak memory.

Two transforms: arcsinh(x / 150) (the cohort's strategy) and logicle (the same gates moved to the Gating-ML logicle
scale, ``Strategy.with_logicle``; the project's logicle interpolates an exact table, FlowKit solves every value).
Compares the project's streaming pipeline (``helpers.cytometry.gate_file`` with the YAML strategy: numpy reading of
the DATA segment, one matrix product for compensation, arcsinh of the gated channels only, each gate tested on its
parent's events) with FlowKit's own per-sample pipeline (``Sample`` + ``GatingStrategy.gate_sample`` on the same
strategy compiled to Gating-ML), measured in the same run on the same files.

Cases: (1) 10 million events (``--events``) in 10 FCS files built from the simulated cohort's events (with their
spillover); (2) many small files: 400 files of 20,000 events, the per-file overhead case; (3) every gated tube (FUNC,
PHENO, SCENITH) of the simulated cohort (``data/simulated/full`` if present, else ``data/simulated/ci``). FlowKit
runs on the first files of each case (2 of the 10 large files). The machine's load average is printed with the table
(on a shared machine read the ratios to FlowKit, measured in the same run).

Memory, two measures: the process's resident-set high-water mark (VmHWM, reset before each measured run through
``/proc/self/clear_refs``; interpreter and libraries included) during the first file and during all files of a case,
and the tracemalloc peak of the pipeline's own allocations over the same runs. Streaming keeps "1 file" and "all
files" equal: memory follows the largest file, not the number of events in all files.

Usage: ``python benchmarks/bench_cytometry.py [--quick] [--events N]`` (quick: 2 million events, fewer files).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import resource
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
    """tracemalloc peak (MB) of the allocations made while ``fn`` runs."""
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _reset_rss_peak() -> bool:
    """Reset the process's resident-set high-water mark (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _rss_peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            return int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) / 1024
    except (OSError, AttributeError):  # ru_maxrss: kB on Linux, the lifetime high-water mark
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return float("nan")


RSS_RESETS = _reset_rss_peak()


def timed(fn) -> tuple[float, int, float]:
    """Run ``fn`` (returning seconds and events) with a fresh RSS high-water mark; (seconds, events, RSS peak MB)."""
    gc.collect()
    _reset_rss_peak()
    t, n = fn()
    return t, n, _rss_peak_mb()


def measure(name: str, files: list[Path], strategy, tmp: Path, fk_files: list[Path]) -> tuple:
    """One row: our rate over ``files``, FlowKit's over ``fk_files``, RSS and tracemalloc peaks (MB)."""
    # One file first: the high-water mark starts from the process's current RSS, which a larger run may leave higher.
    _, _, rss_1 = timed(lambda: run_ours(files[:1], strategy))
    t, n, rss_all = timed(lambda: run_ours(files, strategy))
    _, _, rss_fk = timed(lambda: run_flowkit(fk_files[:1], strategy, tmp))
    t_fk, n_fk, _ = timed(lambda: run_flowkit(fk_files, strategy, tmp))
    m1 = peak_mb(lambda: run_ours(files[:1], strategy))
    m_all = peak_mb(lambda: run_ours(files, strategy))
    m_fk = peak_mb(lambda: run_flowkit(fk_files[:1], strategy, tmp))
    return name, n, t, n / t, n_fk / t_fk, rss_1, rss_all, rss_fk, m1, m_all, m_fk


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 million events and fewer FlowKit files")
    ap.add_argument("--events", type=int, default=None,
                    help="events of the large-file case, in 10 files (default 10 million, 2 million with --quick)")  # fmt: skip
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
    lstrat = strategy.with_logicle()
    n_total = args.events or (2_000_000 if args.quick else 10_000_000)
    n_fk = 1 if args.quick else 2
    rows = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        template = cohort / "cytometry" / "fcs" / "DRM001-DX" / "PHENO_untreated.fcs"
        files = make_files(template, n_total, 10, tmp)
        run_ours(files[:1], strategy)  # warm-up: imports, compiled kernels
        run_ours(files[:1], lstrat)  # and the logicle table
        gc.collect()
        rss_base = _rss_now_mb()
        label = f"10 files of {n_total // 10 / 1e6:g} M"
        rows.append(measure(f"{label}, arcsinh", files, strategy, tmp, files[:n_fk]))
        rows.append(measure(f"{label}, logicle", files, lstrat, tmp, files[:n_fk]))
        n_small = 100 if args.quick else 400
        small = make_files(template, 20_000 * n_small, n_small, tmp, seed=1, prefix="small")
        run_ours(small[:5], lstrat)
        for name, st in (("arcsinh", strategy), ("logicle", lstrat)):
            rows.append(measure(f"{n_small} files of 20k, {name}", small, st, tmp, small[: 10 if args.quick else 30]))
        import pandas as pd

        from helpers.cytometry.readouts import GATED_PANELS

        sheet = pd.read_csv(cohort / "cytometry" / "sample_sheet.csv")
        sheet = sheet[sheet["panel"].isin(GATED_PANELS)]  # PROLIF and MRD tubes have their own analyses
        cfiles = [cohort / "cytometry" / f for f in sheet["file"]]
        # FlowKit on the tubes of one panel (a compiled Gating-ML is panel-specific), a subset to keep it short.
        pheno = [cohort / "cytometry" / f for f in sheet.loc[sheet["panel"] == "PHENO", "file"]][: 20 if args.quick else 60]
        rows.append(measure(f"cohort {cohort.name} ({len(cfiles)} files)", cfiles, strategy, tmp, pheno))
    print("read + compensate + transform + gate, single process, one BLAS thread; load average "
          + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} CPUs")
    rss = "RSS high-water" if RSS_RESETS else "RSS high-water (lifetime: not resettable here)"
    print(f"memory in MB: {rss} of the process for 1 file / all files / FlowKit 1 file, then the tracemalloc peak "
          f"of the pipeline's allocations for the same; RSS after imports and warm-up {rss_base:.0f} MB")
    head = (f"{'case':<30} {'events':>11} {'ours s':>7} {'ours ev/s':>11} {'FlowKit ev/s':>12} {'ratio':>6} "
            f"{'RSS 1 / all / FlowKit':>22} {'alloc 1 / all / FlowKit':>24}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for case, n, t, eps, fk_eps, r1, r_all, r_fk, m1, m_all, m_fk in rows:
        print(f"{case:<30} {n:>11,d} {t:>7.2f} {eps:>11,.0f} {fk_eps:>12,.0f} {eps / fk_eps:>5.1f}x "
              f"{r1:>7.0f} {r_all:>6.0f} {r_fk:>7.0f} {m1:>8.1f} {m_all:>7.1f} {m_fk:>7.1f}")  # fmt: skip
    print("target: >= 2,000,000 events/s (logicle, 10 M events) and >= 1,000,000 events/s on many small files; memory "
          "over all files ~ memory of one file (streaming)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
