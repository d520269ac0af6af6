"""Command line of the integration axis: ``python -m helpers.integration SUBCOMMAND ...``.

``associate``: the feature x drug association screen (:func:`helpers.integration.association_screen`).
"""

from __future__ import annotations

import argparse

from ..cli import run_command
from ..io import write_table

__all__ = ["main", "build_parser"]


def _associate(args: argparse.Namespace) -> int:
    from .associate import association_screen, read_association_inputs

    feats, resp = read_association_inputs(args.features, args.responses)
    covs = [c for c in (args.covariates or "").split(",") if c]
    out = association_screen(feats, resp, covariates=covs, min_samples=args.min_samples,
                             features_path=args.features, responses_path=args.responses)  # fmt: skip
    write_table(out, args.out)
    print(f"{len(out)} feature x drug pairs, {int((out['q_value'] < 0.05).sum())} with q < 0.05 -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argparse parser of ``python -m helpers.integration``.

    Returns
    -------
    argparse.ArgumentParser
        The parser and its sub-commands.
    """
    p = argparse.ArgumentParser(prog="python -m helpers.integration", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("associate", help="correlate per-sample continuous features with ex vivo drug AUCs",
                       description="Pearson and Spearman correlation of every feature with every drug's AUC, with "
                       "Benjamini-Hochberg q over all pairs (p_value = Spearman p); partial correlation with "
                       "--covariates.")  # fmt: skip
    a.add_argument("--features", required=True, help="CSV: sample_id, then one numeric column per feature")
    a.add_argument("--responses", required=True, help="CSV: sample_id, drug, auc (one row per sample and drug)")
    a.add_argument("--out", required=True, help="output CSV: feature, drug, n, pearson_r, pearson_p, spearman_rho, "
                   "p_value, q_value (and partial_r, partial_p, partial_q with --covariates)")
    a.add_argument("--covariates", default="", help="comma-separated feature columns to adjust for (partial "
                   "correlation); they are not screened")
    a.add_argument("--min-samples", type=int, default=5, help="fewest samples with features per drug (default 5)")
    a.set_defaults(func=_associate)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; data-contract errors give one line and exit status 2.

    Parameters
    ----------
    argv
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
