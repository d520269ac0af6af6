"""Command line: python -m helpers.simulate --scale {ci,full,dream} --seed N --out FOLDER [--max-samples N].

At the dream scale ``--axes cytometry barcodes`` writes both (``--max-samples``: the first N samples, the first N PDX).
"""

from __future__ import annotations

import argparse

from ..cli import version_string
from . import AXIS_SIMULATORS, DEFAULT_SEED, SCALES, ensure_cohort, simulate_cohort


def main(argv: list[str] | None = None) -> None:
    """Run ``python -m helpers.simulate``: write a simulated cohort.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).
    """
    ap = argparse.ArgumentParser(prog="python -m helpers.simulate", description=__doc__)
    ap.add_argument("--version", action="version", version=version_string(ap.prog))
    ap.add_argument("--scale", choices=(*SCALES, "dream"), default="ci",
                    help="dream: the study's real sizes (cytometry, scrna, barcodes), written per sample; see helpers.simulate.dream")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--axes", nargs="+", choices=AXIS_SIMULATORS, default=None,
                    help="default: every axis; at the dream scale, cytometry and scrna (barcodes, 714 FASTQ of 1-5 M reads, only when asked)")
    ap.add_argument("--out", required=True, help="output folder (replaced atomically)")
    ap.add_argument("--incremental", action="store_true",
                    help="regenerate only the parts whose simulator code, scale or seed changed")
    ap.add_argument("--max-samples", type=int, default=None, help="dream scale: write only the first N samples")
    ap.add_argument("--workers", type=int, default=1, help="dream scale: samples written in parallel")
    a = ap.parse_args(argv)
    if a.scale == "dream":  # always incremental, per sample (per library for barcodes)
        from .dream import write_dream, write_dream_barcodes

        axes = a.axes or ["cytometry", "scrna"]
        dream_axes = tuple(x for x in axes if x in ("cytometry", "scrna"))
        if dream_axes:
            write_dream(a.out, seed=a.seed, n_patients=a.patients, max_samples=a.max_samples, workers=a.workers,
                        axes=dream_axes)  # fmt: skip
        if "barcodes" in axes:
            write_dream_barcodes(a.out, seed=a.seed, n_patients=a.patients, max_samples=a.max_samples,
                                 workers=a.workers)  # fmt: skip
        return
    a.axes = a.axes or list(AXIS_SIMULATORS)
    if a.incremental:
        ensure_cohort(a.out, scale=a.scale, seed=a.seed, n_patients=a.patients, axes=tuple(a.axes), progress=True)
    else:
        simulate_cohort(a.out, scale=a.scale, seed=a.seed, n_patients=a.patients, axes=tuple(a.axes))


if __name__ == "__main__":
    main()
