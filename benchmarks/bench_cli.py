"""Command lines: how long ``--help`` and ``--version`` take, next to starting Python and the ``python -m`` route.

    python benchmarks/bench_cli.py [--quick]

Each command runs in a fresh subprocess (median of several runs). Baselines in the same run: ``python -c pass``
(interpreter start) and ``python -m helpers.<axis> --help`` (imports the whole axis package).
Target: every console script answers ``--help`` in under 1 s on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPTS = ["dream-run", "dream-dst", "dream-cytometry", "dream-scrna", "dream-barcodes", "dream-check"]


def _seconds(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one run per command")
    a = ap.parse_args()
    repeats = 1 if a.quick else 5
    rows = [("baseline: python -c pass", _seconds([sys.executable, "-c", "pass"], repeats))]
    for axis in ("dst", "cytometry", "scrna", "barcodes"):
        rows.append((f"baseline: python -m helpers.{axis} --help", _seconds([sys.executable, "-m", f"helpers.{axis}",
                                                                              "--help"], repeats)))  # fmt: skip
    for script in SCRIPTS:
        rows.append((f"{script} --help", _seconds([str(BIN / script), "--help"], repeats)))
        rows.append((f"{script} --version", _seconds([str(BIN / script), "--version"], repeats)))
    base = rows[0][1]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the target is for an idle machine)")
    print(f"\n{'command':<44}{'seconds':>10}{'vs python':>11}")
    for name, sec in rows:
        print(f"{name:<44}{sec:>10.2f}{sec / base:>11.1f}")
    worst = max(sec for name, sec in rows if name.startswith("dream-") and name.endswith("--help"))
    print(f"\ntarget: every console script's --help under 1 s -> {'met' if worst < 1 else 'NOT met'} "
          f"(slowest {worst:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
