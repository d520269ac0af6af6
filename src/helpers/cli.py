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
    "dream_check",
]

STDOUT = "-"


def version_string(prog: str | None = None) -> str:
    """``"<prog> <version>"`` of the installed ``dream-helpers`` distribution (``0.0.0`` in an uninstalled tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("dream-helpers")
    except PackageNotFoundError:
        v = "0.0.0"
    return f"{prog or 'dream-helpers'} {v}"


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up (importlib.metadata) only when asked for, not at every start."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_string(parser.prog))
        parser.exit()


def add_version(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--version`` (prints ``prog version`` and exits 0) to ``parser``; return it."""
    parser.add_argument("--version", action=_VersionAction)
    return parser


def is_stdout(path: str | Path | None) -> bool:
    """True when an output argument is ``-`` (standard output)."""
    return path is not None and str(path) == STDOUT


@contextlib.contextmanager
def open_output(path: str | Path) -> Iterator[IO[str]]:
    """Open an output argument for writing text: ``-`` is standard output, anything else a file (parents created)."""
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
    """Console script ``dream-dst`` = ``python -m helpers.dst``."""
    return _axis_main("dst", "dream-dst", argv)


def dream_cytometry(argv: list[str] | None = None) -> int:
    """Console script ``dream-cytometry`` = ``python -m helpers.cytometry``."""
    return _axis_main("cytometry", "dream-cytometry", argv)


def dream_scrna(argv: list[str] | None = None) -> int:
    """Console script ``dream-scrna`` = ``python -m helpers.scrna``."""
    return _axis_main("scrna", "dream-scrna", argv)


def dream_barcodes(argv: list[str] | None = None) -> int:
    """Console script ``dream-barcodes`` = ``python -m helpers.barcodes``."""
    return _axis_main("barcodes", "dream-barcodes", argv)


def dream_run(argv: list[str] | None = None) -> int:
    """Console script ``dream-run`` = ``python run_all.py`` of the checkout the current folder is in."""
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


def dream_check(argv: list[str] | None = None) -> int:
    """Console script ``dream-check FOLDER``: validate a cohort folder against the data contract, axis by axis.

    Reports, for each axis folder the cohort has, whether it loads under the contract, and the first problem
    (file, row, column) when it does not. Exit status 0 when every present axis loads, 2 otherwise.
    """
    ap = argparse.ArgumentParser(prog="dream-check", description=dream_check.__doc__.split("\n\n")[0])
    add_version(ap)
    ap.add_argument("folder", type=Path, help="cohort folder that follows the data contract (data/README.md)")
    a = ap.parse_args(argv)
    folder = a.folder
    if not folder.is_dir():
        print(f"dream-check: error: {folder} is not a folder", file=sys.stderr)
        return 2
    checks = [("clinical", _check_clinical)]
    checks += [(axis, fn) for axis, fn in (("dst", _check_dst), ("cytometry", _check_cytometry),
                                           ("scrna", _check_scrna), ("barcodes", _check_barcodes))
               if (folder / axis).is_dir()]
    bad = 0
    for axis, fn in checks:
        try:
            what = fn(folder)
        except (DataContractError, FileNotFoundError, ValueError, KeyError) as exc:
            bad += 1
            print(f"{axis}: error: {exc}")
        else:
            print(f"{axis}: ok ({what})")
    return 2 if bad else 0


def _check_clinical(folder: Path) -> str:
    from .clinical import load_clinical, load_samples

    clinical = load_clinical(folder)
    return f"{len(clinical)} patients, {len(load_samples(folder, clinical=clinical))} samples"


def _check_dst(folder: Path) -> str:
    from .clinical import load_samples
    from .dst.io import load_plates

    wells = load_plates(folder / "dst", samples=load_samples(folder))
    return f"{len(wells)} wells"


def _check_cytometry(folder: Path) -> str:
    from .cytometry.contract import load_sample_sheet

    return f"{len(load_sample_sheet(folder / 'cytometry' / 'sample_sheet.csv'))} files in the sample sheet"


def _check_scrna(folder: Path) -> str:
    from .scrna.load import read_sample_sheet

    return f"{len(read_sample_sheet(folder / 'scrna' / 'sample_sheet.csv'))} samples in the sample sheet"


def _check_barcodes(folder: Path) -> str:
    from .barcodes.contract import load_barcode_dataset

    return f"{len(load_barcode_dataset(folder).sheet)} libraries"
