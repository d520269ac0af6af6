"""What the command lines share: dispatch, data-contract errors, ``--version``, ``-`` for stdout, console scripts.

Every axis runs as ``python -m helpers.<axis> ...`` and as a console script installed with the package
(``dream-dst``, ``dream-cytometry``, ``dream-scrna``, ``dream-barcodes``; ``dream-run`` is ``run_all.py`` and
``dream-check`` validates a cohort folder against the data contract). Axis packages and their ``__main__`` import
heavy libraries only inside the subcommand that needs them, so that ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import DataContractError

__all__ = [
    "run_command",
    "add_version",
    "version_string",
    "is_stdout",
    "open_output",
    "dream_run",
    "dream_dst",
    "dream_cytometry",
    "dream_scrna",
    "dream_barcodes",
]

STDOUT = "-"


def version_string(prog: str | None = None) -> str:
    """Format ``"<prog> <version>"`` of the installed ``dream-helpers`` distribution (``0.0.0`` in an uninstalled tree).

    Parameters
    ----------
    prog
        Program name shown (default ``dream-helpers``).

    Returns
    -------
    str
        The version line that ``--version`` prints.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("dream-helpers")
    except PackageNotFoundError:
        v = "0.0.0"
    return f"{prog or 'dream-helpers'} {v}"


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up (importlib.metadata) only when asked for, not at every start."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, default: object = argparse.SUPPRESS,
                 help: str | None = None):  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(version_string(parser.prog))
        parser.exit()


def add_version(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--version`` (prints ``prog version`` and exits 0) to ``parser``.

    Parameters
    ----------
    parser
        The command line's parser.

    Returns
    -------
    argparse.ArgumentParser
        ``parser``, for chaining.
    """
    parser.add_argument("--version", action=_VersionAction)
    return parser


def is_stdout(path: str | Path | None) -> bool:
    """Tell whether an output argument is ``-`` (standard output).

    Parameters
    ----------
    path
        The argument as given (``None`` when absent).

    Returns
    -------
    bool
        True for ``-``.
    """
    return path is not None and str(path) == STDOUT


@contextlib.contextmanager
def open_output(path: str | Path) -> Iterator[IO[str]]:
    """Open an output argument for writing text: ``-`` is standard output, anything else a file (parents created).

    Parameters
    ----------
    path
        The output argument.

    Yields
    ------
    typing.IO[str]
        ``sys.stdout`` (flushed, not closed, at the end) or the open file (``newline=""``, closed at the end).
    """
    if is_stdout(path):
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        yield fh


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the chosen subcommand (its ``func`` default) and return the exit status.

    A data-contract violation is the user's input, not a bug: it is reported in one line in argparse's own format
    (``prog command: error: ...``, naming file, row and column) with exit status 2, instead of a traceback.
    A subcommand returning ``None`` counts as success. ``--version`` is added when the parser lacks it.

    Parameters
    ----------
    parser
        The parser, whose subcommands set a ``func`` default taking the parsed arguments.
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The subcommand's status (0 for ``None``), or 2 after a data-contract error.
    """
    if not any("--version" in a.option_strings for a in parser._actions):
        add_version(parser)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except DataContractError as exc:
        cmd = getattr(args, "command", None)
        print(f"{parser.prog}{f' {cmd}' if cmd else ''}: error: {exc}", file=sys.stderr)
        return 2


def _axis_main(module: str, prog: str, argv: list[str] | None) -> int:
    """Run ``helpers.<module>.__main__.main`` under the console script's name."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:  # answered without importing the axis
        print(version_string(prog))
        return 0
    main = importlib.import_module(f"helpers.{module}.__main__").main  # light: the axis is imported lazily
    old, sys.argv[0] = sys.argv[0], prog
    try:
        return main(argv) or 0
    finally:
        sys.argv[0] = old


def dream_dst(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-dst``, which is ``python -m helpers.dst``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    return _axis_main("dst", "dream-dst", argv)


def dream_cytometry(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-cytometry``, which is ``python -m helpers.cytometry``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    return _axis_main("cytometry", "dream-cytometry", argv)


def dream_scrna(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-scrna``, which is ``python -m helpers.scrna``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    return _axis_main("scrna", "dream-scrna", argv)


def dream_barcodes(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-barcodes``, which is ``python -m helpers.barcodes``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    return _axis_main("barcodes", "dream-barcodes", argv)


def dream_run(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-run``, which is ``python run_all.py`` of the checkout the current folder is in.

    Parameters
    ----------
    argv
        Arguments of ``run_all.py`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status; 2 outside a checkout.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        print(version_string("dream-run"))
        return 0
    from .paths import repo_root

    try:
        script = repo_root() / "run_all.py"
    except FileNotFoundError:
        script = None
    if script is None or not script.is_file():
        print("dream-run: error: run it inside a checkout of the compendium (it runs the checkout's notebooks)",
              file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("dream_run_all", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main(argv, prog="dream-run")
