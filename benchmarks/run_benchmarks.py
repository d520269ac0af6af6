"""Run every benchmark (benchmarks/bench_*.py), each in its own process, and print their tables.

    make bench                      # all, full size (bench_study: one row per axis at DREAM scale)
    python benchmarks/run_benchmarks.py --quick dst barcodes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="benchmarks to run (e.g. dst); default: all")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    a = ap.parse_args()
    files = sorted(HERE.glob("bench_*.py"))
    if a.names:
        files = [f for f in files if f.stem.removeprefix("bench_") in a.names]
    status = 0
    for f in files:
        # The load of the machine with every table: on a shared machine the ratios, not the rates, are the result.
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        print(f"\n=== {f.stem} === (load average {load} on {os.cpu_count()} CPUs)", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(f), *(["--quick"] if a.quick else [])], cwd=HERE.parent)
        print(f"({f.stem}: exit {rc}, {time.perf_counter() - t0:.0f} s)", flush=True)
        status |= rc != 0
    return status


if __name__ == "__main__":
    sys.exit(main())
