#!/usr/bin/env python
"""Benchmark: FCS files fanned out one task per file on a dask LocalCluster, 1 vs 2 workers, against the serial run.

Files: a slice of the ``dream`` scale (``helpers.simulate.dream``: the study's 100,000-500,000 events per tube), written
to a temporary folder (or ``--cohort``). For each setting the whole sheet goes through
``helpers.cytometry.readouts.process_files`` (read + compensate + gate + medians + QC); the tables of every run are
checked equal to the serial run's. Prints wall time, events per second, speed-up against the serial run measured in the
same run, and the whole study's extrapolated wall time (0.4-1.8 billion events; the midpoint 1.1 billion) on 1, 2 and N
workers assuming the measured per-worker rate.

Usage: ``python benchmarks/bench_fanout.py [--max-samples 2] [--event-fraction 0.5] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from helpers.cytometry import load_cytometry  # noqa: E402
from helpers.cytometry.readouts import process_files  # noqa: E402
from helpers.simulate import DEFAULT_SEED  # noqa: E402
from helpers.simulate.dream import write_dream  # noqa: E402
from helpers.workflow import open_executor  # noqa: E402

STUDY_EVENTS = (0.4e9, 1.8e9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-samples", type=int, default=2)
    ap.add_argument("--event-fraction", type=float, default=0.5, help="of the study's events per tube")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cohort", type=Path, help="an existing dream-scale folder instead of a temporary slice")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmpd:
        cohort = a.cohort or write_dream(Path(tmpd) / "dream", seed=DEFAULT_SEED, max_samples=a.max_samples,
                                         workers=max(a.workers), event_fraction=a.event_fraction)  # fmt: skip
        inputs = load_cytometry(cohort / "cytometry")
        files = pd.read_csv(cohort / "truth" / "cytometry_dream_files.csv")
        n_events = int(files.set_index("file").loc[inputs.sheet["file"], "n_events"].sum())
        process_files(inputs.sheet.iloc[:1], inputs.gating, panels=inputs.panels)  # warm-up, as for the clusters
        t0 = time.perf_counter()
        ref = process_files(inputs.sheet, inputs.gating, panels=inputs.panels)
        rows = [("serial (one process)", time.perf_counter() - t0, True)]
        for w in a.workers:
            with open_executor(local_cluster=w) as ex:
                process_files(inputs.sheet.iloc[:1], inputs.gating, panels=inputs.panels, executor=ex)  # warm-up
                t0 = time.perf_counter()
                out = process_files(inputs.sheet, inputs.gating, panels=inputs.panels, executor=ex)
                dt = time.perf_counter() - t0
            same = all(out[f.name].to_csv(index=False) == ref[f.name].to_csv(index=False)
                       for f in dataclasses.fields(ref))  # fmt: skip
            rows.append((f"LocalCluster, {w} worker{'s' if w > 1 else ''}", dt, same))
    t_serial = rows[0][1]
    print(f"{len(inputs.sheet)} FCS files, {n_events:,d} events (dream slice: {a.max_samples} samples x "
          f"{a.event_fraction:g} of the study's events per tube)\n")
    head = f"{'setting':<26}{'wall s':>9}{'events/s':>14}{'speed-up':>10}{'tables = serial':>17}"
    print(head)
    print("-" * len(head))
    for name, dt, same in rows:
        print(f"{name:<26}{dt:>9.2f}{n_events / dt:>14,.0f}{t_serial / dt:>9.2f}x{str(same):>17}")
    rate = n_events / min(dt for _, dt, _ in rows[:2])  # per-worker rate: the faster of serial and 1 worker
    mid = sum(STUDY_EVENTS) / 2
    print(f"\nwhole study (cytometry, {STUDY_EVENTS[0] / 1e9:.1f}-{STUDY_EVENTS[1] / 1e9:.1f} billion events), "
          f"at {rate:,.0f} events/s per worker:")
    for w in (1, 2, 16, 64):
        print(f"  {w:>3} workers: {mid / rate / w / 3600:6.2f} h (range {STUDY_EVENTS[0] / rate / w / 3600:.2f}-"
              f"{STUDY_EVENTS[1] / rate / w / 3600:.2f} h), assuming linear scaling")
    return 0 if all(same for *_, same in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
