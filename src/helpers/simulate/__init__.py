"""The simulated DREAM cohort: deterministic by seed, written in the data contract's layout, with its planted truth.

``simulate_cohort(out_dir, scale="ci" | "full", seed=...)`` writes clinical.csv, samples.csv, one folder per assay
(dst/, cytometry/, scrna/, barcodes/) exactly as a lab would deliver them, and truth/ (never read by the analyses).
``ensure_cohort`` does the same incrementally: it regenerates only the parts whose simulator code, scale or seed
changed. Command line: ``python -m helpers.simulate --scale ci --seed 20261129 --out data/simulated/ci``.

Each assay has its own simulator module ``helpers.simulate.<axis>`` with
``simulate_<axis>(tables, out_dir, *, scale, seed)`` that writes ``<out_dir>/<axis>/`` and ``<out_dir>/truth/<axis>*``
and draws from its own random stream, so that the assays can be regenerated independently.

Notebooks read the planted truth only through :mod:`helpers.truth` (``planted_truth(data_dir, name)``), in
a section marked as validation against the simulator.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import importlib.util
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..axes import axes as registered_axes
from ..axes import axis as registered_axis

if TYPE_CHECKING:
    from .cohort import CohortTables

__all__ = [
    "simulate_cohort",
    "ensure_cohort",
    "simulate_patients",
    "CohortTables",
    "PLANTED_EFFECTS",
    "SCALES",
    "DEFAULT_SEED",
    "AXIS_SIMULATORS",
]

SCALES = ("ci", "full")
DEFAULT_SEED = 20261129
AXIS_SIMULATORS = tuple(a.name for a in registered_axes())
_PKG = Path(__file__).resolve().parent
_BASE_FILES = [_PKG / "cohort.py", _PKG.parent / "clinical.py", _PKG.parent / "io.py"]


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:16]


def _base_fingerprint(scale: str, seed: int, n_patients: int) -> str:
    # The sampling plan of axes added to the registry (simulated_timepoints) changes samples.csv; the four axes of
    # the study declare none, which leaves their cohorts' stamps as they were.
    plan = sorted((a.assay, a.simulated_timepoints) for a in registered_axes() if a.simulated_timepoints)
    extra = [repr(plan).encode()] if plan else []
    return _digest([f"{scale}|{seed}|{n_patients}".encode(), *(f.read_bytes() for f in _BASE_FILES), *extra])


def _depends_on(source: str) -> tuple[str, ...]:
    """Read the module-level ``DEPENDS_ON`` literal of a simulator's source without importing it."""
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if node_value := getattr(node, "value", None):
            if any(isinstance(t, ast.Name) and t.id == "DEPENDS_ON" for t in targets):
                return tuple(ast.literal_eval(node_value))
    return ()


def _axis_fingerprint(axis: str, base_fp: str) -> str:
    # Read from the source files, not by importing the simulators: their imports (scanpy, FlowKit, ...) cost seconds
    # on every up-to-date check, which is the whole of a no-change rerun.
    path = Path(importlib.util.find_spec(registered_axis(axis).simulator.partition(":")[0]).origin)
    source = path.read_bytes()
    files = [path] + [_PKG.parent / rel for rel in _depends_on(source.decode())]
    return _digest([base_fp.encode(), *(f.read_bytes() for f in files)])


def _run_axis(axis: str, tables: CohortTables, out: Path, *, scale: str, seed: int, progress: bool) -> None:
    """Simulate one assay into a temporary cohort folder, then move its outputs into ``out``."""
    t0 = time.perf_counter()
    simulate = registered_axis(axis).load_simulator()
    tmp = Path(tempfile.mkdtemp(prefix=f".{axis}.", dir=out.parent))
    try:
        (tmp / "truth").mkdir()
        simulate(tables, tmp, scale=scale, seed=seed)
        for old in [out / axis, *(out / "truth").glob(f"{axis}*")]:
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
        for item in tmp.iterdir():
            if item.name == "truth":
                for f in item.iterdir():
                    f.rename(out / "truth" / f.name)
            else:
                item.rename(out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        print(f"[simulate] {axis}: {time.perf_counter() - t0:.1f} s", flush=True)


def ensure_cohort(
    out_dir: str | Path,
    *,
    scale: str = "ci",
    seed: int = DEFAULT_SEED,
    n_patients: int = 120,
    axes: tuple[str, ...] = AXIS_SIMULATORS,
    progress: bool = False,
) -> Path:
    """Bring ``out_dir`` up to date with the simulator code: regenerate only the stale parts.

    The patients (clinical.csv, samples.csv, truth/) and each assay carry a fingerprint of the code, scale and seed
    that made them (``.stamps/``). Safe to call from several processes at once (an exclusive file lock serialises it).

    Parameters
    ----------
    out_dir
        The cohort folder (created).
    scale
        ``"ci"`` (seconds, under 50 MB) or ``"full"`` (the demo cohort).
    seed
        Seed of the cohort: same seed, same bytes.
    n_patients
        Patients in the cohort.
    axes
        Which assay simulators to bring up to date (``()``: the patients only).
    progress
        Print one line (with its time) per regenerated part.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Raises
    ------
    ValueError
        ``scale`` is not one of ``SCALES``.
    """
    from .cohort import simulate_patients

    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamps = out / ".stamps"
    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamps.mkdir(exist_ok=True)
        base_fp = _base_fingerprint(scale, seed, n_patients)
        base_stamp = stamps / "patients"
        tables = None
        base_fresh = base_stamp.is_file() and base_stamp.read_text().strip() == base_fp
        if not base_fresh:
            t0 = time.perf_counter()
            for f in stamps.iterdir():  # every assay depends on the patients
                f.unlink()
            tables = simulate_patients(n_patients, seed=seed)
            tables.write(out)
            (out / "COHORT").write_text(
                f"simulated DREAM cohort\nscale: {scale}\nseed: {seed}\npatients: {n_patients}\n"
            )
            base_stamp.write_text(base_fp + "\n")
            if progress:
                print(f"[simulate] patients, clinical and samples: {time.perf_counter() - t0:.1f} s", flush=True)
        for axis in axes:
            fp = _axis_fingerprint(axis, base_fp)
            stamp = stamps / axis
            if stamp.is_file() and stamp.read_text().strip() == fp and (out / axis).exists():
                continue
            stamp.unlink(missing_ok=True)
            tables = tables or simulate_patients(n_patients, seed=seed)
            _run_axis(axis, tables, out, scale=scale, seed=seed, progress=progress)
            stamp.write_text(fp + "\n")
    return out


def simulate_cohort(
    out_dir: str | Path,
    *,
    scale: str = "ci",
    seed: int = DEFAULT_SEED,
    n_patients: int = 120,
    axes: tuple[str, ...] = AXIS_SIMULATORS,
    progress: bool = True,
) -> Path:
    """Generate the simulated cohort from scratch into ``out_dir``, replacing it only once the new one is complete.

    Parameters
    ----------
    out_dir
        Target folder.
    scale
        ``"ci"`` (seconds, under 50 MB; tests and nbval) or ``"full"`` (the demo cohort of ``make all``).
    seed
        Same seed, same bytes.
    n_patients
        Patients in the cohort.
    axes
        Which assay simulators to run.
    progress
        Print one line per step.

    Returns
    -------
    pathlib.Path
        ``out_dir``, holding the complete new cohort.
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new.", dir=out.parent))
    try:
        ensure_cohort(tmp, scale=scale, seed=seed, n_patients=n_patients, axes=axes, progress=progress)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / "x")
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        (out.parent / f".{tmp.name}.lock").unlink(missing_ok=True)
    return out


def __getattr__(name: str):
    # The simulator (pandas, pandera) is imported on first use, so that `python -m helpers.simulate --help` is quick.
    if name in ("PLANTED_EFFECTS", "CohortTables", "simulate_patients"):
        from . import cohort

        return getattr(cohort, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
