"""Command lines: how long ``--help`` and ``--version`` take, next to starting Python and the ``python -m`` route.

    python benchmarks/bench_cli.py [--quick]

Each command runs in a fresh subprocess (median of several runs). Baselines in the same run: ``python -c pass``
(interpreter start) and each axis package imported eagerly (``import helpers.<axis>.<module>, ...`` of the modules
its subcommands use: what ``--help`` cost when the package ``__init__`` and ``__main__`` imported them at start).
Target: every command line answers ``--help`` in under 1 s on an idle machine (the load average is printed: on a
loaded machine the interpreter start alone grows several-fold).
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
# The modules each axis' subcommands use (what an eager --help imported).
EAGER = {
    "dst": ["fit", "io", "qc", "synergy"],
    "cytometry": ["gating", "readouts", "proliferation", "fcs"],
    "scrna": ["load", "qc", "annotate"],
    "barcodes": ["correct", "extract", "diversity", "tables", "diff", "preexisting"],
}


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
    for axis, modules in EAGER.items():
        code = "import " + ", ".join(f"helpers.{axis}.{m}" for m in modules)
        rows.append((f"baseline: eager import of helpers.{axis}", _seconds([sys.executable, "-c", code], repeats)))
    for axis in EAGER:
        rows.append((f"python -m helpers.{axis} --help", _seconds([sys.executable, "-m", f"helpers.{axis}", "--help"],
                                                                  repeats)))  # fmt: skip
    for script in SCRIPTS:
        rows.append((f"{script} --help", _seconds([str(BIN / script), "--help"], repeats)))
        rows.append((f"{script} --version", _seconds([str(BIN / script), "--version"], repeats)))
    base = rows[0][1]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the target is for an idle machine)")
    print(f"\n{'command':<44}{'seconds':>10}{'vs python':>11}")
    for name, sec in rows:
        print(f"{name:<44}{sec:>10.2f}{sec / base:>11.1f}")
    worst = max(sec for name, sec in rows if not name.startswith("baseline") and name.endswith("--help"))
    print(f"\ntarget: every command line's --help under 1 s -> {'met' if worst < 1 else 'NOT met'} "
          f"(slowest {worst:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
