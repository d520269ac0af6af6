"""Fast barcode extraction from (gzipped) FASTQ: quality filter, pattern match with bounded mismatches, counting.

Speed matters (tens of millions of reads per run), so nothing here loops over reads in Python on the main path:

1. ``dnaio.read_chunks`` hands over blocks of whole FASTQ records, decompressed in-process (``xopen``, ISA-L when
   available).
2. Each block becomes numpy views: newline positions give every record's sequence and quality line; when all records
   of a block have the same layout (the usual case for one run), the block is reshaped into a 2-D byte matrix without a
   copy, otherwise the lines are gathered into a padded matrix.
3. The template (fixed bases and ``N`` wobble positions) is compared at the library's usual offset for all reads at
   once; only reads without an exact match there are scanned over every offset (still vectorised), and the leftmost
   offset with the fewest mismatches wins.
4. Barcodes are packed two bits per base into ``uint64`` words and counted with ``np.unique`` per block.

Reads that fail are counted by reason (:data:`REJECT_REASONS`). Flank patterns (pycashier style) additionally send
reads that do not fit the template without indels through a small indel-tolerant aligner (cutadapt allows indels in
the flanks and barcodes of ``length +/- offset``); that path is per read, but it only sees the few reads the
vectorised path could not place.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dnaio
import numpy as np
import pandas as pd
from xopen import xopen

from ..errors import DataContractError
from .patterns import ReadPattern, parse_pattern

__all__ = ["ExtractionResult", "extract_barcodes", "iter_fastq_blocks", "REJECT_REASONS", "encode_2bit", "decode_2bit"]

REJECT_REASONS = ("low_quality", "too_short", "no_pattern", "n_in_barcode", "barcode_length")
_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


@dataclass
class ExtractionResult:
    """Barcode counts of one FASTQ file (or several pooled) and the fate of every read.

    Attributes
    ----------
    counts
        Reads per barcode (index ``barcode``), sorted by count (descending) then barcode.
    n_reads
        Reads in the input.
    rejected
        Reads rejected, by reason (every reason of :data:`REJECT_REASONS` is present, possibly 0).
    mismatches
        Accepted reads by number of mismatches in the fixed positions (index 0..max).
    offsets
        Accepted reads by offset of the template in the read.
    """

    counts: pd.Series
    n_reads: int
    rejected: dict[str, int]
    mismatches: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))
    offsets: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))

    @property
    def n_matched(self) -> int:
        """Reads that gave a barcode."""
        return int(self.counts.sum())

    def summary(self) -> dict[str, float]:
        """Summarise the run as a flat dict: reads, matched reads, match rate, distinct barcodes, rejections.

        Returns
        -------
        dict
            ``reads``, ``matched``, ``match_rate`` (matched / reads; NaN without reads), ``distinct_barcodes`` and
            ``rejected_<reason>`` for every reason of :data:`REJECT_REASONS` (reads).
        """
        out = {"reads": self.n_reads, "matched": self.n_matched,
               "match_rate": self.n_matched / self.n_reads if self.n_reads else float("nan"),
               "distinct_barcodes": int(self.counts.size)}  # fmt: skip
        out.update({f"rejected_{k}": v for k, v in self.rejected.items()})
        return out


def iter_fastq_blocks(path: str | Path, *, buffer_size: int = 4 << 20) -> Iterator[memoryview]:
    """Yield ``bytes``-like blocks of whole FASTQ records from a plain or gzipped file.

    Parameters
    ----------
    path
        FASTQ or FASTQ.gz file.
    buffer_size
        Approximate bytes per block.

    Yields
    ------
    bytes-like
        Blocks that start and end at record boundaries.

    Raises
    ------
    DataContractError
        The file is missing, not FASTQ, or a corrupt / truncated gzip stream.
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "FASTQ file not found")
    try:
        with xopen(path, "rb", threads=0) as fh:
            yield from dnaio.read_chunks(fh, buffer_size)
    except (EOFError, zlib.error, OSError) as exc:
        raise DataContractError(path, f"corrupt or truncated compressed FASTQ ({exc})") from None
    except (dnaio.exceptions.FileFormatError, dnaio.exceptions.UnknownFileFormat) as exc:
        raise DataContractError(path, f"not a FASTQ file ({exc})") from None


def _records(block: bytes | memoryview, path: Path, first_record: int):
    """Return a numpy view of a block and the start/length of every sequence and quality line; validates the layout."""
    buf = np.frombuffer(block, dtype=np.uint8)
    if buf.size and buf[-1] != 10:  # the last record of a file may lack its final newline
        buf = np.concatenate([buf, np.array([10], dtype=np.uint8)])
    uniform = _uniform_layout(buf)
    if uniform is not None:
        return uniform
    nl = np.flatnonzero(buf == 10)
    if nl.size % 4:
        raise DataContractError(path, "truncated FASTQ record (line count not a multiple of 4)",
                                row=first_record + nl.size // 4 + 1)  # fmt: skip
    line_start = np.concatenate([[0], nl[:-1] + 1])
    line_end = nl.copy()
    cr = buf[np.maximum(line_end - 1, 0)] == 13  # tolerate CRLF line endings
    line_end[cr] -= 1
    h, s, p, q = (line_start[i::4] for i in range(4))
    bad = np.flatnonzero((buf[h] != ord("@")) | (buf[p] != ord("+")))
    if bad.size:
        raise DataContractError(path, "record does not start with '@' or has no '+' line", row=first_record + bad[0] + 1)
    seq_len = line_end[1::4] - s
    qual_len = line_end[3::4] - q
    bad = np.flatnonzero(seq_len != qual_len)
    if bad.size:
        i = bad[0]
        raise DataContractError(path, f"sequence ({seq_len[i]} bases) and quality ({qual_len[i]}) differ in length",
                                row=first_record + i + 1)  # fmt: skip
    return buf, h, s, q, seq_len


def _uniform_layout(buf: np.ndarray):
    """Find the record arrays without scanning every byte, when all records of the block have the first record's layout.

    Instruments write fixed-length reads and (often) fixed-length names; then every record is ``r`` bytes long with
    its newlines at the same offsets, which strided checks of a few bytes per record confirm. Returns None otherwise
    (the general path then finds every newline).
    """
    head = bytes(buf[:1024])
    cuts, pos = [], -1
    for _ in range(4):
        pos = head.find(b"\n", pos + 1)
        if pos < 0:
            return None
        cuts.append(pos)
    r = cuts[3] + 1
    if buf.size % r or head[0:1] != b"@" or head[cuts[1] + 1 : cuts[1] + 2] != b"+" or head[cuts[0] - 1] == 13:
        return None
    n = buf.size // r
    mat = buf.reshape(n, r)
    if not ((mat[:, 0] == 64).all() and (mat[:, cuts[1] + 1] == 43).all()
            and all((mat[:, c] == 10).all() for c in cuts)):  # fmt: skip
        return None
    rec = np.arange(n, dtype=np.int64) * r
    seq_len = np.full(n, cuts[1] - cuts[0] - 1, dtype=np.int64)
    if cuts[3] - cuts[2] - 1 != seq_len[0]:
        return None
    return buf, rec, rec + cuts[0] + 1, rec + cuts[2] + 1, seq_len


def _matrices(buf: np.ndarray, rec: np.ndarray, s: np.ndarray, q: np.ndarray, seq_len: np.ndarray, pad: int):
    """Build the sequence and quality matrices (n x width); zero-copy views when every record has the same layout."""
    n = s.size
    width = int(seq_len.max()) if n else 0
    if n > 1 and pad == 0:
        rec_len = np.diff(rec)
        same = (rec_len == rec_len[0]).all() and (seq_len == width).all()
        if same and ((s - rec) == s[0] - rec[0]).all() and ((q - rec) == q[0] - rec[0]).all():
            r = int(rec_len[0])
            base = int(rec[0])
            mat = buf[base : base + n * r].reshape(n, r)
            so, qo = int(s[0] - rec[0]), int(q[0] - rec[0])
            return mat[:, so : so + width], mat[:, qo : qo + width]
    cols = np.arange(width + pad)
    inside = cols[None, :] < seq_len[:, None]
    sidx = np.where(inside, s[:, None] + cols[None, :], 0)
    qidx = np.where(inside, q[:, None] + cols[None, :], 0)
    seq = np.where(inside, buf[sidx], 0).astype(np.uint8)
    qual = np.where(inside, buf[qidx], 33).astype(np.uint8)
    return seq, qual


def encode_2bit(codes: np.ndarray) -> np.ndarray:
    """Pack a (n, L) matrix of base codes 0-3 into (n, ceil(L/32)) ``uint64`` words, two bits per base.

    Bases fill the words from the most significant bits, 32 per word, the last word padded with zeros; four bases
    are first packed into each byte and the bytes read as big-endian words, which avoids a loop over positions.

    Parameters
    ----------
    codes
        (n, L) integer base codes 0-3.

    Returns
    -------
    ndarray
        (n, ceil(L/32)) ``uint64`` words.
    """
    n, length = codes.shape
    k = max(1, -(-length // 32))
    if length == 32 * k:
        padded = codes.astype(np.uint8, copy=False)
    else:
        padded = np.zeros((n, 32 * k), dtype=np.uint8)
        padded[:, :length] = codes
    q = padded.reshape(n, 8 * k, 4)
    packed = (q[:, :, 0] << 6) | (q[:, :, 1] << 4) | (q[:, :, 2] << 2) | q[:, :, 3]
    return np.ascontiguousarray(packed).view(">u8").astype(np.uint64)


def decode_2bit(words: np.ndarray, length: int) -> np.ndarray:
    """Inverse of :func:`encode_2bit`: an array of Python strings.

    Parameters
    ----------
    words
        (n, k) ``uint64`` words of :func:`encode_2bit`.
    length
        Bases per sequence.

    Returns
    -------
    ndarray
        n strings of ``length`` bases.
    """
    words = np.atleast_2d(words)
    n, k = words.shape
    if length == 0:
        return np.array([""] * n)
    packed = words.astype(">u8").view(np.uint8).reshape(n, 8 * k)
    codes = np.stack([(packed >> sh) & 3 for sh in (6, 4, 2, 0)], axis=2).reshape(n, 32 * k)[:, :length]
    return _BASES[codes].view(f"S{length}").ravel().astype(str)


def _count_true(mask: np.ndarray, axis: int) -> np.ndarray:
    """Count the True values along ``axis``.

    Summing the bytes with a small accumulator is twice as fast as ``np.count_nonzero(..., axis=...)``.
    """
    return np.add.reduce(mask.view(np.uint8), axis=axis, dtype=np.uint16)


def _unique_rows(words: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a (n, k) uint64 array and their (weighted) counts; a 1-D sort when k == 1 (the usual case)."""
    if words.shape[1] == 1 and weights is None:  # sort without an argsort: fastest for the per-block tallies
        srt = np.sort(words[:, 0])
        if not srt.size:
            return srt[:, None], np.array([], np.int64)
        start = np.flatnonzero(np.concatenate([[True], srt[1:] != srt[:-1]]))
        return srt[start][:, None], np.diff(np.append(start, srt.size)).astype(np.int64)
    if words.shape[1] == 1:
        flat = words[:, 0]
        order = np.argsort(flat, kind="stable")
        srt = flat[order]
        start = np.flatnonzero(np.concatenate([[True], srt[1:] != srt[:-1]])) if srt.size else np.array([], np.intp)
        w = np.ones(srt.size, dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)[order]
        return srt[start][:, None], np.add.reduceat(w, start) if srt.size else np.array([], np.int64)
    u, inv = np.unique(words, axis=0, return_inverse=True)
    w = np.ones(words.shape[0], dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    return u, np.bincount(inv.ravel(), weights=w, minlength=u.shape[0]).astype(np.int64)


def _edit_search(pattern: str, text: str, max_err: int, *, allow_partial_end: int = 0) -> tuple[int, int, int]:
    """Best approximate occurrence of ``pattern`` in ``text`` (Sellers' algorithm, unit costs).

    Returns ``(errors, start, end)`` of the occurrence with the fewest errors (leftmost on ties), or
    ``(max_err + 1, -1, -1)``. With ``allow_partial_end = k``, a prefix of the pattern of at least ``k`` bases
    may end the text (a flank cut by the end of the read), with errors allowed at the same rate.
    """
    m = len(pattern)
    prev = list(range(m + 1))
    start_prev = [0] * (m + 1)
    best = (max_err + 1, -1, -1)
    for j, c in enumerate(text, start=1):
        cur = [0] * (m + 1)
        start_cur = [j] * (m + 1)
        for i in range(1, m + 1):
            sub = prev[i - 1] + (pattern[i - 1] != c)
            dele = prev[i] + 1
            ins = cur[i - 1] + 1
            if sub <= dele and sub <= ins:
                cur[i], start_cur[i] = sub, start_prev[i - 1]
            elif dele <= ins:
                cur[i], start_cur[i] = dele, start_prev[i]
            else:
                cur[i], start_cur[i] = ins, start_cur[i - 1]
        if cur[m] < best[0]:
            best = (cur[m], start_cur[m], j)
        prev, start_prev = cur, start_cur
    if best[1] < 0 and allow_partial_end:
        # the read ends inside the pattern: compare the last k bases of the read to the pattern's prefix
        for k in range(min(m - 1, len(text)), allow_partial_end - 1, -1):
            errs = sum(a != b for a, b in zip(text[-k:], pattern[:k], strict=True))
            if errs <= int(max_err * k / m):
                return errs, len(text) - k, len(text)
    return best


class _Extractor:
    """State of one extraction run (pattern, filters, running counts); see :func:`extract_barcodes`."""

    def __init__(self, pattern: ReadPattern, *, min_mean_quality: float | None, max_mismatches: int,
                 min_base_quality: int | None, max_low_quality_fraction: float, indels: bool | None,
                 error_rate: float):  # fmt: skip
        self.p = pattern
        self.min_mean_quality = min_mean_quality
        self.max_mm = int(max_mismatches)
        self.min_base_quality = min_base_quality
        self.max_lowq = max_low_quality_fraction
        self.indels = indels if indels is not None else pattern.kind == "flanks"
        self.error_rate = error_rate
        self.pad = len(pattern.template) - pattern.required_length
        # fixed positions grouped by flank: mismatches are limited per flank (cutadapt) or over the backbone
        if pattern.kind == "flanks":
            self.group = (pattern.fixed_pos >= len(pattern.upstream)).astype(np.intp)
        else:
            self.group = np.zeros(pattern.fixed_pos.size, dtype=np.intp)
        self.n_groups = int(self.group.max()) + 1
        # A read within k mismatches of the template at offset o has at least D(s) - k mismatches at offset o + s,
        # where D(s) counts fixed positions whose base differs from the fixed base s positions away. When
        # 2 * mismatches < min D, no other offset can do as well and the fast path may accept the read directly.
        t = np.frombuffer(pattern.template.encode(), np.uint8)
        fixed = t != ord("N")
        self.shift_d = np.array([int((fixed[:-sh] & fixed[sh:] & (t[:-sh] != t[sh:])).sum()) for sh in range(1, len(t))]
                                + [0], dtype=np.int64)  # fmt: skip
        self.offset_hits = Counter()
        self.words: list[np.ndarray] = []
        self.word_counts: list[np.ndarray] = []
        self.extra = Counter()  # barcodes from the indel-tolerant path (any length)
        self.rejected = Counter({r: 0 for r in REJECT_REASONS})
        self.mm_hist = Counter()
        self.n_reads = 0

    def _mismatches(self, seq: np.ndarray, rows: np.ndarray | None, off: int) -> np.ndarray:
        """Worst per-group mismatch count of the fixed positions at offset ``off`` for ``rows`` (None: all reads)."""
        cols = off + self.p.fixed_pos
        win = seq[:, cols] if rows is None else seq[rows[:, None], cols[None, :]]
        miss = win != self.p.fixed_base
        if self.pad:
            miss &= win != 0  # 0 = beyond the read (a trailing flank cut by the read's end)
        if self.n_groups == 1:
            return _count_true(miss, 1).astype(np.int16)
        return np.stack([_count_true(miss[:, self.group == g], 1) for g in range(self.n_groups)]).max(0)

    def _scan(self, seq: np.ndarray, rest: np.ndarray, max_off: np.ndarray, best_mm: np.ndarray,
              best_off: np.ndarray) -> None:  # fmt: skip
        """Try every offset for the reads in ``rest``: the leftmost offset with the fewest mismatches (in place).

        A first pass compares only the first few fixed positions at every offset; a (read, offset) pair with more
        than ``max_mismatches`` there cannot be accepted (mismatches only add up), so reads without the pattern, the
        bulk of this path, are dropped cheaply and the full comparison runs on the surviving pairs only.
        """
        big = np.iinfo(np.int16).max
        offs = np.arange(int(max_off[rest].max()) + 1)
        k = min(12, self.p.fixed_pos.size)
        cols = np.minimum(offs[:, None] + self.p.fixed_pos[None, :k], seq.shape[1] - 1)
        win = seq[rest[:, None, None], cols[None, :, :]]
        miss = win != self.p.fixed_base[:k]
        if self.pad:
            miss &= win != 0
        ok = (_count_true(miss, 2) <= self.max_mm) & (offs[None, :] <= max_off[rest][:, None])
        r_idx, o_idx = np.nonzero(ok)  # row-major: for each read, offsets in increasing order
        if not r_idx.size:
            return
        rows = rest[r_idx]
        full = seq[rows[:, None], offs[o_idx][:, None] + self.p.fixed_pos[None, :]]
        fmiss = full != self.p.fixed_base
        if self.pad:
            fmiss &= full != 0
        if self.n_groups == 1:
            mm = _count_true(fmiss, 1)
        else:
            mm = np.stack([_count_true(fmiss[:, self.group == g], 1) for g in range(self.n_groups)]).max(0)
        mm_mat = np.full(ok.shape, big, dtype=np.int64)
        mm_mat[r_idx, o_idx] = mm
        best = mm_mat.argmin(axis=1)  # leftmost offset with the fewest mismatches
        found = mm_mat[np.arange(rest.size), best] < big
        best_mm[rest[found]] = mm_mat[np.arange(rest.size), best][found]
        best_off[rest[found]] = offs[best[found]]

    def block(self, block: bytes | memoryview, path: Path) -> None:
        buf, rec, s, q, seq_len = _records(block, path, self.n_reads)
        n = s.size
        self.n_reads += n
        if n == 0:
            return
        seq, qual = _matrices(buf, rec, s, q, seq_len, self.pad)
        ok = np.ones(n, dtype=bool)
        if self.min_mean_quality is not None:
            # padding holds '!' (Phred 0), so it adds nothing once the offset 33 is removed from every column
            qsum = np.add.reduce(qual, axis=1, dtype=np.uint32).astype(np.int64) - 33 * qual.shape[1]
            mean_q = qsum / np.maximum(seq_len, 1)
            ok &= mean_q >= self.min_mean_quality
        if self.min_base_quality is not None:
            inside = np.arange(qual.shape[1])[None, :] < seq_len[:, None]
            low = ((qual < 33 + self.min_base_quality) & inside).sum(axis=1)
            ok &= low <= self.max_lowq * seq_len
        self.rejected["low_quality"] += int(n - ok.sum())
        max_off = seq_len - self.p.required_length  # last valid offset per read
        short = ok & (max_off < 0)
        self.rejected["too_short"] += int(short.sum())
        cand = np.flatnonzero(ok & ~short)
        best_mm = np.full(n, 32767, dtype=np.int16)
        best_off = np.full(n, -1, dtype=np.intp)
        # 1) fast path: the most frequent offset so far, for all reads at once (column slices, no row gather)
        first = self.offset_hits.most_common(1)[0][0] if self.offset_hits else 0
        if cand.size and seq.shape[1] >= first + len(self.p.template):
            mm_all = self._mismatches(seq, None, first)
            ok_first = np.zeros(n, dtype=bool)
            ok_first[cand] = True
            span = int(max_off[cand].max()) if cand.size else 0  # largest shift possible within these reads
            # with a trailing flank cut by the read's end, unread positions match anything: accept only exact matches
            margin = 1 if self.pad else int(self.shift_d[: max(span, 1)].min())
            ok_first &= (max_off >= first) & (mm_all <= self.max_mm) & (2 * mm_all < margin)
            best_mm[ok_first], best_off[ok_first] = mm_all[ok_first], first
        # 2) the rest: every offset, leftmost offset with the fewest mismatches
        rest = cand[best_off[cand] < 0]
        if rest.size:
            self._scan(seq, rest, max_off, best_mm, best_off)
        is_match = (best_off[cand] >= 0) & (best_mm[cand] <= self.max_mm)
        matched, unmatched = cand[is_match], cand[~is_match]
        # barcodes at the wobble positions (one column gather for the reads at the usual offset)
        at_first = best_off[matched] == first
        bases = np.empty((matched.size, self.p.barcode_length), dtype=np.uint8)
        if at_first.any() and seq.shape[1] >= first + len(self.p.template):
            bases[at_first] = seq[:, first + self.p.wobble_pos][matched[at_first]]
        other = matched[~at_first]
        bases[~at_first] = seq[other[:, None], best_off[other][:, None] + self.p.wobble_pos[None, :]]
        codes = np.take(_CODE, bases)
        has_n = (codes == 255).any(axis=1)
        self.rejected["n_in_barcode"] += int(has_n.sum())
        good = matched[~has_n]
        for hist, values in ((self.offset_hits, best_off[good]), (self.mm_hist, best_mm[good])):
            tally = np.bincount(values) if values.size else np.array([], np.int64)
            hist.update({int(k): int(tally[k]) for k in np.flatnonzero(tally)})
        if good.size:
            words = encode_2bit(codes[~has_n])
            u, c = _unique_rows(words)
            self.words.append(u)
            self.word_counts.append(c)
        if self.indels and unmatched.size:
            self._indel_path(seq, seq_len, unmatched)
        else:
            self.rejected["no_pattern"] += int(unmatched.size)

    def _indel_path(self, seq: np.ndarray, seq_len: np.ndarray, rows: np.ndarray) -> None:
        """Search the flanks read by read, indel-tolerant, for the reads the vectorised path could not place."""
        p = self.p
        lo, hi = p.barcode_length - p.length_tolerance, p.barcode_length + p.length_tolerance
        for r in rows:
            text = seq[r, : seq_len[r]].tobytes().decode()
            e_up, _, end_up = _edit_search(p.upstream, text, int(self.error_rate * len(p.upstream)))
            if end_up < 0:
                self.rejected["no_pattern"] += 1
                continue
            tail = text[end_up:]
            e_dn, st_dn, _ = _edit_search(p.downstream, tail, int(self.error_rate * len(p.downstream)),
                                          allow_partial_end=p.min_overlap)  # fmt: skip
            if st_dn < 0:
                self.rejected["no_pattern"] += 1
                continue
            bc = tail[:st_dn]
            if "N" in bc:
                self.rejected["n_in_barcode"] += 1
            elif not lo <= len(bc) <= hi:
                self.rejected["barcode_length"] += 1
            else:
                self.extra[bc] += 1
                self.mm_hist[max(e_up, e_dn)] += 1

    def result(self) -> ExtractionResult:
        length = self.p.barcode_length
        counts = Counter(self.extra)
        if self.words:
            u, tot = _unique_rows(np.concatenate(self.words), np.concatenate(self.word_counts))
            for bc, c in zip(decode_2bit(u, length), tot, strict=True):
                counts[bc] += int(c)
        s = pd.Series(counts, dtype="int64", name="count")
        s.index.name = "barcode"
        s = s.sort_index().sort_values(ascending=False, kind="stable")
        mm = pd.Series(dict(sorted(self.mm_hist.items())), dtype="int64", name="reads")
        mm.index.name = "mismatches"
        off = pd.Series(dict(sorted((int(k), v) for k, v in self.offset_hits.items())), dtype="int64", name="reads")
        off.index.name = "offset"
        return ExtractionResult(s, self.n_reads, dict(self.rejected), mm, off)


def extract_barcodes(
    fastq: str | Path | list[str | Path],
    pattern: ReadPattern | str,
    *,
    min_mean_quality: float | None = 30,
    max_mismatches: int = 0,
    min_base_quality: int | None = None,
    max_low_quality_fraction: float = 0.2,
    indels: bool | None = None,
    error_rate: float = 0.1,
    buffer_size: int = 4 << 20,
) -> ExtractionResult:
    """Extract and count barcodes from one or more FASTQ(.gz) files.

    Parameters
    ----------
    fastq
        File or files (pooled into one result, e.g. the lanes of one sample).
    pattern
        A :class:`ReadPattern` or its text (backbone with ``N``, or ``UPSTREAM...DOWNSTREAM``).
    min_mean_quality
        Reject reads whose mean Phred quality over the whole read is below this (genBaRcode ``min_score``);
        ``None`` to skip.
    max_mismatches
        Mismatches allowed in the fixed positions: over the whole backbone, or per flank for flank patterns.
    min_base_quality, max_low_quality_fraction
        fastp-style filter (pycashier ``-q``/``-u``): reject reads with more than this fraction of bases below
        ``min_base_quality``; ``None`` to skip.
    indels
        Give reads that fit no offset an indel-tolerant second look (default: only for flank patterns).
    error_rate
        Errors allowed per flank in the indel-tolerant path, as a fraction of the flank's length (cutadapt ``-e``).
    buffer_size
        Bytes of FASTQ text handled at once.

    Returns
    -------
    ExtractionResult
        Counts per barcode (reads) and every read's fate.

    Raises
    ------
    DataContractError
        A file is missing, not FASTQ, a corrupt or truncated gzip stream, or has a malformed record (line count,
        ``@`` / ``+`` lines, sequence and quality of different lengths; the message names the record), or the
        ``pattern`` text is not a valid read pattern (:func:`helpers.barcodes.patterns.parse_pattern`).
    """
    pat = pattern if isinstance(pattern, ReadPattern) else parse_pattern(pattern)
    ex = _Extractor(pat, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches,
                    min_base_quality=min_base_quality, max_low_quality_fraction=max_low_quality_fraction,
                    indels=indels, error_rate=error_rate)  # fmt: skip
    files = [fastq] if isinstance(fastq, str | Path) else list(fastq)
    for f in files:
        for block in iter_fastq_blocks(f, buffer_size=buffer_size):
            ex.block(block, Path(f))
    return ex.result()
