"""Read patterns of barcode libraries: a backbone with fixed and wobble positions, or flanking sequences.

Two conventions are in use and both map onto one representation, a *template* of fixed bases and ``N`` positions:

- genBaRcode (Thielecke et al. 2017): the whole backbone is given, e.g. BC32-GFP
  ``ACTNNCGANN...`` with 32 wobble positions; the barcode is the sequence read at the ``N`` positions, joined.
- pycashier (Brock lab): a barcode of ``length`` bases between an upstream and a downstream flank, written here as
  ``UPSTREAM...DOWNSTREAM`` (the cutadapt linked-adapter notation). The template is ``UPSTREAM + N * length +
  DOWNSTREAM`` and, because cutadapt allows indels and barcodes of ``length +/- offset`` bases, reads that do not fit the
  template without indels get a second, indel-tolerant look (see :mod:`helpers.barcodes.extract`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataContractError

__all__ = ["ReadPattern", "parse_pattern", "read_pattern_file", "BC32_GFP", "PYCASHIER_DEFAULT"]

BC32_GFP = "ACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANNCTTNNCGANNCTTNNGGANNCTANNACTNNCGANN"
PYCASHIER_DEFAULT = "GTGGAAAGGACGAAACACCG...GTTTTAGAGCTAGAAATAGC"
_DNA = re.compile(r"^[ACGTN]+$")


@dataclass(frozen=True)
class ReadPattern:
    """A library's read pattern as a template of fixed bases and wobble (``N``) positions.

    Attributes
    ----------
    template
        Fixed bases and ``N`` wobble positions, e.g. the genBaRcode backbone.
    kind
        ``"backbone"`` or ``"flanks"``.
    upstream, downstream
        The flanks (``kind == "flanks"`` only).
    length_tolerance
        Barcodes may be this many bases shorter or longer than the template's wobble block (flanks only, through the
        indel-tolerant path; pycashier's ``--offset``).
    min_overlap
        The last fixed segment may run past the read's end as long as this many of its bases were read (cutadapt's
        partial 3' adapter match); 0 for a backbone, which must be read in full.
    """

    template: str
    kind: str = "backbone"
    upstream: str = ""
    downstream: str = ""
    length_tolerance: int = 0
    min_overlap: int = 0
    fixed_pos: np.ndarray = field(init=False, repr=False, compare=False)
    fixed_base: np.ndarray = field(init=False, repr=False, compare=False)
    wobble_pos: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Derive the fixed and wobble positions from the template."""
        t = np.frombuffer(self.template.encode(), dtype=np.uint8)
        wob = t == ord("N")
        object.__setattr__(self, "fixed_pos", np.flatnonzero(~wob))
        object.__setattr__(self, "fixed_base", t[~wob].copy())
        object.__setattr__(self, "wobble_pos", np.flatnonzero(wob))

    @property
    def barcode_length(self) -> int:
        """Number of wobble positions: the barcode's nominal length."""
        return int(self.wobble_pos.size)

    @property
    def required_length(self) -> int:
        """Bases of the template that must lie inside the read (the trailing flank may be partial)."""
        if self.kind == "flanks" and self.min_overlap:
            return len(self.upstream) + self.barcode_length + self.min_overlap
        return len(self.template)

    def __str__(self) -> str:
        """Write the pattern as it is given: the template, or ``UPSTREAM...DOWNSTREAM``."""
        return f"{self.upstream}...{self.downstream}" if self.kind == "flanks" else self.template


def parse_pattern(
    text: str, *, barcode_length: int = 20, length_tolerance: int = 1, min_overlap: int = 3, source: str | None = None
) -> ReadPattern:
    """Parse a backbone (``ACTNNCGA...``) or flanks (``UPSTREAM...DOWNSTREAM``) into a :class:`ReadPattern`.

    Parameters
    ----------
    text
        The pattern. Flanks are separated by ``...``; a backbone is one string of A, C, G, T and N.
    barcode_length
        Nominal barcode length between flanks (pycashier ``--length``, default 20).
    length_tolerance
        Accepted deviation from ``barcode_length`` (pycashier ``--offset``, default 1).
    min_overlap
        Bases of the downstream flank that must be read when the read ends inside it (cutadapt default 3).
    source
        File the pattern came from, for error messages.

    Returns
    -------
    ReadPattern
        The parsed pattern (``kind`` ``"backbone"`` or ``"flanks"``).

    Raises
    ------
    DataContractError
        The pattern has characters other than A, C, G, T, N, no wobble position, or empty flanks.
    """
    text = text.strip().upper()
    where = source or "<pattern>"
    if "..." in text:
        up, _, down = text.partition("...")
        if not up or not down or not _DNA.match(up + down) or "N" in up + down:
            raise DataContractError(where, f"flanks must be two non-empty A/C/G/T sequences around '...', got {text!r}")
        if barcode_length < 1:
            raise DataContractError(where, f"barcode length must be positive, got {barcode_length}")
        return ReadPattern(
            up + "N" * barcode_length + down,
            kind="flanks",
            upstream=up,
            downstream=down,
            length_tolerance=int(length_tolerance),
            min_overlap=int(min(min_overlap, len(down))),
        )
    if not text or not _DNA.match(text):
        bad = sorted(set(text) - set("ACGTN")) or ["empty"]
        raise DataContractError(where, f"backbone may hold only A, C, G, T and N; found {', '.join(bad)}")
    if "N" not in text:
        raise DataContractError(where, "backbone has no wobble (N) position, so it cannot carry a barcode")
    return ReadPattern(text)


def read_pattern_file(path: str | Path) -> ReadPattern:
    """Read a library pattern file (data contract: ``barcodes/library_pattern.txt``).

    The file holds ``key: value`` lines; ``pattern`` is required, ``barcode_length``, ``length_tolerance`` and
    ``min_overlap`` are optional (flanks only). Lines starting with ``#`` are comments.

    Parameters
    ----------
    path
        The pattern file.

    Returns
    -------
    ReadPattern
        The parsed pattern (:func:`parse_pattern`).

    Raises
    ------
    DataContractError
        The file is missing, a line is not ``key: value``, ``pattern`` is missing, an option is not an integer, or
        the pattern is invalid (:func:`parse_pattern`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "library pattern file not found")
    fields: dict[str, str] = {}
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise DataContractError(path, f"expected 'key: value', got {line!r}", row=i)
        fields[key.strip()] = value.strip()
    if "pattern" not in fields:
        raise DataContractError(path, "missing required key 'pattern'", column="pattern")
    opts = {}
    for key in ("barcode_length", "length_tolerance", "min_overlap"):
        if key in fields:
            try:
                opts[key] = int(fields[key])
            except ValueError:
                raise DataContractError(path, f"must be an integer, got {fields[key]!r}", column=key) from None
    return parse_pattern(fields["pattern"], source=str(path), **opts)
