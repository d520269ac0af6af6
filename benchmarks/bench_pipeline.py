"""run_all.py: how long a run with nothing changed takes, next to re-reading every input (what its cache avoids).

    python benchmarks/bench_pipeline.py [--quick] [--cohort demo]

Target: a no-change run of the demo cohort in under 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.workflow import load_cohort  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="use the CI-scale cohort")
    ap.add_argument("--cohort", default=None)
    a = ap.parse_args()
    name = a.cohort or ("ci" if a.quick else "demo")
    cohort = load_cohort(name)
    print(f"cohort {name}: bringing it up to date first (this may run notebooks)", flush=True)
    subprocess.run([sys.executable, "run_all.py", "--cohort", name, "--jobs", "2"], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "run_all.py", "--cohort", name], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    no_change = time.perf_counter() - t0
    files = [f for f in cohort.data_dir.rglob("*") if f.is_file()] if cohort.data_dir else []
    size = sum(f.stat().st_size for f in files)
    t0 = time.perf_counter()
    for f in files:  # baseline: hash every input without the (size, mtime) cache
        hashlib.sha256(f.read_bytes()).hexdigest()
    rehash = time.perf_counter() - t0
    print(f"\n{'case':<38}{'files':>8}{'MB':>10}{'seconds':>10}{'ratio':>8}")
    print(f"{'baseline: sha256 of every input':<38}{len(files):>8}{size / 1e6:>10.1f}{rehash:>10.2f}{1:>8.2f}")
    print(f"{'run_all.py, nothing changed':<38}{len(files):>8}{size / 1e6:>10.1f}{no_change:>10.2f}"
          f"{no_change / max(rehash, 1e-9):>8.2f}")
    print(f"\ntarget: no-change run under 10 s -> {'met' if no_change < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
