"""Command line: python -m helpers.simulate --scale {ci,full} --seed N --out FOLDER."""

from __future__ import annotations

import argparse

from ..cli import version_string
from . import AXIS_SIMULATORS, DEFAULT_SEED, SCALES, ensure_cohort, simulate_cohort


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers.simulate", description=__doc__)
    ap.add_argument("--version", action="version", version=version_string(ap.prog))
    ap.add_argument("--scale", choices=SCALES, default="ci")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--patients", type=int, default=120)
    ap.add_argument("--axes", nargs="+", choices=AXIS_SIMULATORS, default=list(AXIS_SIMULATORS))
    ap.add_argument("--out", required=True, help="output folder (replaced atomically)")
    ap.add_argument("--incremental", action="store_true",
                    help="regenerate only the parts whose simulator code, scale or seed changed")
    a = ap.parse_args(argv)
    if a.incremental:
        ensure_cohort(a.out, scale=a.scale, seed=a.seed, n_patients=a.patients, axes=tuple(a.axes), progress=True)
    else:
        simulate_cohort(a.out, scale=a.scale, seed=a.seed, n_patients=a.patients, axes=tuple(a.axes))


if __name__ == "__main__":
    main()
