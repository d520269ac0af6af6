"""Re-execute the nbval reference notebooks under two numeric kernels at once and compare them with the references.

    python tools/check_references.py            # what `make test` runs after the unit tests (both variants)
    python tools/check_references.py --only sandybridge notebooks/reference/02_cytometry.ipynb

Each variant runs in its own scratch output folder (``DREAM_OUTPUT_ROOT``), in parallel (one process per core), and
runs nbval on ``notebooks/reference`` followed by tests/reference_tables.py (the tables by value). The variants:

- ``detected``: the OpenBLAS kernel and numpy SIMD paths this CPU selects by itself, BLAS threads as configured;
- ``sandybridge``: ``OPENBLAS_CORETYPE=Sandybridge`` (AVX without FMA: other kernels, other rounding), numpy limited
  to AVX2 on an AVX-512 CPU (``NPY_ENABLE_CPU_FEATURES``: no AVX-512 code paths, whose transcendental functions round
  differently), one BLAS thread. Not Haswell: forcing ``OPENBLAS_CORETYPE=Haswell`` on an AVX-512 CPU makes the
  OpenBLAS bundled with scipy crash (a general protection fault in ``libscipy_openblas``, reproducible in
  ``03_scrna``), which says nothing about the compendium.

A variant whose kernel dies cannot hang the run: every cell has a timeout and each variant a deadline.

The exit status is non-zero when either variant fails; each variant's report is printed in full.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AVX2_FEATURES = "SSE SSE2 SSE3 SSSE3 SSE41 POPCNT SSE42 AVX F16C FMA3 AVX2"
CELL_TIMEOUT_S = 1800  # generous for a loaded 2-core machine; the slowest cell takes under a minute when idle
VARIANT_DEADLINE_S = 3000


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def variants() -> dict[str, dict[str, str]]:
    """Environment overrides of each variant this CPU can run."""
    out = {"detected": {}}
    if platform.machine() not in ("x86_64", "AMD64"):
        out["one_thread"] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        return out
    flags = cpu_flags()
    if "avx512f" in flags and "avx2" in flags:
        out["sandybridge"] = {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_ENABLE_CPU_FEATURES": AVX2_FEATURES,
                              "OPENBLAS_NUM_THREADS": "1"}
    elif "avx" in flags:
        out["sandybridge"] = {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "1"}
    else:
        out["one_thread"] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return out


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["detected", "sandybridge", "one_thread"], action="append",
                    help="run only these variants")
    ap.add_argument("paths", nargs="*", default=["notebooks/reference"], help="reference notebooks (default: all)")
    a = ap.parse_args(argv)
    chosen = {k: v for k, v in variants().items() if not a.only or k in a.only}
    procs = {}
    for name, extra in chosen.items():
        scratch = Path(tempfile.mkdtemp(prefix=f"dream-nbval-{name}-"))
        log = scratch / "report.txt"
        env = dict(os.environ, **extra, DREAM_OUTPUT_ROOT=str(scratch))
        cmd = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "--nbval",
               "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
               f"--nbval-cell-timeout={CELL_TIMEOUT_S}", *a.paths,
               "tests/reference_tables.py"]  # fmt: skip
        print(f"[references] {name}: {' '.join(f'{k}={v}' for k, v in extra.items()) or 'as detected'}", flush=True)
        procs[name] = (subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT),
                       scratch, log)
    status = 0
    for name, (proc, scratch, log) in procs.items():
        try:
            rc = proc.wait(timeout=VARIANT_DEADLINE_S)
        except subprocess.TimeoutExpired:  # e.g. a kernel that died without nbval noticing: fail, never hang
            proc.kill()
            rc = proc.wait()
            log.open("a").write(f"\nvariant {name} killed after {VARIANT_DEADLINE_S} s\n")
            rc = rc or 1
        print(f"\n===== nbval + reference tables, variant {name}: {'passed' if rc == 0 else 'FAILED'}", flush=True)
        print(log.read_text(), flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
