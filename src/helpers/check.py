"""Validate a whole cohort folder before any run: every table, every referenced file, every plausibility rule.

``python -m helpers check DATA_DIR`` lists all problems at once (one line each: file, row, column, what is wrong)
and exits with status 2 when there is any, so that a lab fixes its folder in one pass instead of one error per run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .axes import axes
from .errors import DataContractError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_cohort", "main", "dream_check"]

AXIS_FOLDERS = tuple(a.name for a in axes())


def _attempt(found: list[DataContractError], fn: Callable, /, *args: Any, where: Path | None = None, **kwargs: Any):
    """Run one loader; a contract error (or any library error, wrapped) is recorded and ``None`` returned."""
    try:
        return fn(*args, **kwargs)
    except DataContractError as exc:
        found.append(exc)
    except Exception as exc:  # noqa: BLE001 - a reader's own error is a problem of the file, not a crash of check
        found.append(DataContractError(where, f"cannot be read: {type(exc).__name__}: {exc}"))
    return None


def _check_dst(d: Path, samples: pd.DataFrame | None, problems: list) -> None:
    from .dst.contract import load_plate_manifest, read_long_table, read_plate_map, read_reader_export
    from .safepaths import confined_path

    if (d / "plates.csv").is_file():
        manifest = _attempt(problems, load_plate_manifest, d, samples=samples, where=d / "plates.csv")
        seen: set[Path] = set()
        for i, rec in enumerate([] if manifest is None else manifest.itertuples(index=False)):
            line = i + 2
            reader = _attempt(problems, confined_path, d, rec.reader_file, sheet=d / "plates.csv", row=line,
                              column="reader_file")  # fmt: skip
            if reader is not None:
                _attempt(problems, read_reader_export, reader, where=reader)
            pmap = _attempt(problems, confined_path, d, rec.map_file, sheet=d / "plates.csv", row=line,
                            column="map_file")  # fmt: skip
            if pmap is not None and pmap.resolve() not in seen:
                seen.add(pmap.resolve())
                _attempt(problems, read_plate_map, pmap, problems=problems, where=pmap)
    if (d / "viability_long.csv").is_file():
        _attempt(problems, read_long_table, d / "viability_long.csv", where=d / "viability_long.csv")


def _check_cytometry(d: Path, problems: list) -> None:
    from .cytometry.contract import load_panels, load_sample_sheet

    sheet = _attempt(problems, load_sample_sheet, d / "sample_sheet.csv", problems=problems,
                     where=d / "sample_sheet.csv")  # fmt: skip
    panels = _attempt(problems, load_panels, d / "panels.csv", where=d / "panels.csv")
    if sheet is not None and panels is not None:
        for p in sorted(set(sheet["panel"]) - set(panels)):
            problems.append(DataContractError(d / "sample_sheet.csv", f"panel '{p}' is not defined in panels.csv",
                                              column="panel"))  # fmt: skip
    if not any((d / n).is_file() for n in ("gating.yaml", "gating.xml")):
        problems.append(DataContractError(d, "no gating definition (gating.yaml or gating.xml)"))
    if sheet is not None:
        for i, p in enumerate(sheet["path"]):
            p = Path(p)
            if p.is_file() and p.stat().st_size > 0:
                with open(p, "rb") as fh:
                    head = fh.read(6)
                if not head.startswith(b"FCS"):
                    problems.append(DataContractError(d / "sample_sheet.csv", f"{sheet['file'].iat[i]!r} is not an "
                                                      "FCS file (no FCS header)", row=i + 2, column="file"))


def _check_scrna(d: Path, problems: list) -> None:
    from .scrna.contract import read_sample_sheet

    _attempt(problems, read_sample_sheet, d / "sample_sheet.csv", where=d / "sample_sheet.csv")


def _check_barcodes(d: Path, problems: list) -> None:
    from .barcodes.contract import load_sample_sheet
    from .barcodes.patterns import read_pattern_file

    _attempt(problems, load_sample_sheet, d / "sample_sheet.csv", problems=problems, where=d / "sample_sheet.csv")
    _attempt(problems, read_pattern_file, d / "library_pattern.txt", where=d / "library_pattern.txt")


def check_cohort(data_dir: str | Path) -> list[DataContractError]:
    """List every problem of a cohort folder (an empty list: the folder follows the data contract).

    Parameters
    ----------
    data_dir
        The cohort folder (``clinical.csv``, ``samples.csv`` and the assay sub-folders it has).

    Returns
    -------
    list of DataContractError
        In the order clinical, samples, dst, cytometry, scrna, barcodes; each names file, row and column.
    """
    from .clinical import load_clinical, load_samples

    d = Path(data_dir)
    if not d.is_dir():
        return [DataContractError(d, "cohort folder not found")]
    problems: list[DataContractError] = []
    clinical = _attempt(problems, load_clinical, d, problems=problems, where=d / "clinical.csv")
    samples = _attempt(problems, load_samples, d, clinical=clinical, problems=problems, where=d / "samples.csv")
    # The study's axes collect every problem of their folder; an axis added to the registry is checked by its
    # contract loader (``contract`` of its entry: a function of the axis folder raising DataContractError).
    collecting = {"dst": lambda p: _check_dst(p, samples, problems), "cytometry": lambda p: _check_cytometry(p, problems),
                  "scrna": lambda p: _check_scrna(p, problems), "barcodes": lambda p: _check_barcodes(p, problems)}  # fmt: skip
    for a in axes():
        if (d / a.name).is_dir():
            if a.name in collecting:
                collecting[a.name](d / a.name)
            else:
                _attempt(problems, a.load_contract(), d / a.name, where=d / a.name)
    return problems


def _shown(exc: DataContractError, base: Path) -> str:
    """Format the message with the file named relative to the cohort folder (short; no absolute path in logs)."""
    msg = str(exc)
    if exc.path is not None:
        try:
            rel = exc.path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            rel = exc.path.name
        msg = msg.replace(str(exc.path), rel, 1)
    return msg


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m helpers check DATA_DIR``: print every problem of the folder.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 2 when there is any problem, else 0.
    """
    import argparse

    ap = argparse.ArgumentParser(prog="python -m helpers", description="Checks of a cohort data folder.")
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="validate a whole cohort folder before any run",
                       description="Validate every table, every referenced file and every plausibility rule of a "
                                   "cohort folder (data/README.md); list all problems; exit 2 when there is any.")
    c.add_argument("data_dir", type=Path, help="the cohort folder (clinical.csv, samples.csv, assay folders)")
    a = ap.parse_args(argv)
    problems = check_cohort(a.data_dir)
    for p in problems:
        print(_shown(p, a.data_dir))
    if problems:
        print(f"{len(problems)} problem(s) in {a.data_dir.name}", flush=True)
        return 2
    print(f"{a.data_dir.name}: follows the data contract")
    return 0


def _axis_of(exc: DataContractError, base: Path) -> str:
    """Name the axis folder a problem is in (``clinical`` for the top-level tables)."""
    if exc.path is None:
        return "clinical"
    try:
        first = exc.path.resolve().relative_to(base.resolve()).parts[0]
    except (ValueError, IndexError):
        return "clinical"
    return first if first in AXIS_FOLDERS else "clinical"


def dream_check(argv: list[str] | None = None) -> int:
    """Run the console script ``dream-check FOLDER``: the problems of :func:`check_cohort`, axis by axis.

    Parameters
    ----------
    argv
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when the folder follows the contract, 2 otherwise (one ``axis: ok`` line per axis the cohort
        has, or one ``axis: error: ...`` line per problem naming file, row and column).
    """
    import argparse

    from .cli import add_version

    ap = argparse.ArgumentParser(prog="dream-check", description="Validate a cohort folder against the data "
                                 "contract, axis by axis.")  # fmt: skip
    add_version(ap)
    ap.add_argument("folder", type=Path, help="cohort folder that follows the data contract (data/README.md)")
    a = ap.parse_args(argv)
    if not a.folder.is_dir():
        print(f"dream-check: error: {a.folder.name} is not a folder", file=sys.stderr)
        return 2
    problems = check_cohort(a.folder)
    by_axis: dict[str, list[DataContractError]] = {}
    for exc in problems:
        by_axis.setdefault(_axis_of(exc, a.folder), []).append(exc)
    for axis in ["clinical", *(x for x in AXIS_FOLDERS if (a.folder / x).is_dir())]:
        found = by_axis.get(axis, [])
        if not found:
            print(f"{axis}: ok")
        for exc in found:
            print(f"{axis}: error: {_shown(exc, a.folder)}")
    return 2 if problems else 0
