"""What the axes' command lines (``python -m helpers.<axis> ...``) share: dispatch and data-contract errors."""

from __future__ import annotations

import argparse
import sys

from .errors import DataContractError

__all__ = ["run_command"]


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the chosen subcommand (its ``func`` default) and return the exit status.

    A data-contract violation is the user's input, not a bug: it is reported in one line in argparse's own format
    (``prog command: error: ...``, naming file, row and column) with exit status 2, instead of a traceback.
    A subcommand returning ``None`` counts as success.
    """
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except DataContractError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
