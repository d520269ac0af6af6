"""Barcode extraction from FASTQ: real genBaRcode and pycashier data, read fates, broken inputs.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_barcodes_extract_public_data.py``.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from helpers.barcodes import BC32_GFP, extract_barcodes, parse_pattern, read_pattern_file
from helpers.barcodes.extract import decode_2bit, encode_2bit
from helpers.errors import DataContractError


def _fastq(path, reads, *, gz=True, names=None):
    """Write reads [(seq, qual)] as FASTQ(.gz)."""
    text = "".join(f"@{(names or {}).get(i, f'r{i}')}\n{s}\n+\n{q}\n" for i, (s, q) in enumerate(reads))
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_mismatches_counted_in_fixed_positions_and_fates(tmp_path):
    pat = parse_pattern("ACGTNNNNTTGCA")
    good = "GG" + "ACGTAAAATTGCA" + "CC"
    one_fixed = "GG" + "ACGTCCCCTTGAA" + "CC"  # one mismatch in a fixed base
    wobble_only = "G" + "ACGTGGGGTTGCA" + "CCC"  # another offset, exact
    n_in_bc = "GG" + "ACGTANAATTGCA" + "CC"
    junk = "T" * 17
    lowq = "GG" + "ACGTAAAATTGCA" + "CC"
    reads = [(good, "I" * 17), (one_fixed, "I" * 17), (wobble_only, "I" * 17), (n_in_bc, "I" * 17),
             (junk, "I" * 17), (lowq, "#" * 17), ("ACGT", "IIII")]  # fmt: skip
    f = _fastq(tmp_path / "x.fastq.gz", reads)
    r0 = extract_barcodes(f, pat, min_mean_quality=30, max_mismatches=0)
    assert dict(r0.counts) == {"AAAA": 1, "GGGG": 1}
    assert r0.rejected == {"low_quality": 1, "too_short": 1, "no_pattern": 2, "n_in_barcode": 1, "barcode_length": 0}
    r1 = extract_barcodes(f, pat, min_mean_quality=30, max_mismatches=1)
    assert dict(r1.counts) == {"AAAA": 1, "CCCC": 1, "GGGG": 1}
    assert dict(r1.mismatches) == {0: 2, 1: 1}
    assert dict(r1.offsets) == {1: 1, 2: 2}


def test_block_layouts_agree(tmp_path):
    # the zero-copy path (identical record layout) and the gathered path (varying names) give the same counts
    rng = np.random.default_rng(0)
    tmpl = np.frombuffer(BC32_GFP.encode(), np.uint8).copy()
    wob = tmpl == ord("N")
    reads = []
    for _ in range(500):
        t = tmpl.copy()
        t[wob] = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, wob.sum())]
        reads.append(("TT" + t.tobytes().decode() + "GGGG", "F" * 86))
    a = extract_barcodes(_fastq(tmp_path / "a.fq", reads, gz=False), BC32_GFP, buffer_size=4096)
    b = extract_barcodes(_fastq(tmp_path / "b.fq.gz", reads, names={i: f"x{i * 7919}" for i in range(500)}), BC32_GFP)
    pd.testing.assert_series_equal(a.counts, b.counts)
    assert a.n_matched == 500


def test_two_bit_round_trip():
    rng = np.random.default_rng(1)
    for length in (1, 20, 32, 33, 48):
        codes = rng.integers(0, 4, size=(50, length)).astype(np.uint8)
        s = decode_2bit(encode_2bit(codes), length)
        assert list(s) == ["".join("ACGT"[c] for c in row) for row in codes]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"@r1\nACGT\n+\nIII\n", "differ in length"),
        (b"@r1\nACGT\n+\nIIII\n@r2\nACGT\n", "truncated FASTQ record"),
        (b"r1\nACGT\n+\nIIII\n", "FASTQ"),
    ],
)
def test_broken_fastq_is_named(tmp_path, content, message):
    f = tmp_path / "bad.fastq"
    f.write_bytes(content)
    with pytest.raises(DataContractError, match=message) as exc:
        extract_barcodes(f, "ACNNT", min_mean_quality=None)
    assert "bad.fastq" in str(exc.value)


def test_corrupt_gzip_is_named(tmp_path):
    good = gzip.compress(b"@r1\nACGTACGT\n+\nIIIIIIII\n" * 2000)
    f = tmp_path / "corrupt.fastq.gz"
    f.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataContractError, match="corrupt or truncated") as exc:
        extract_barcodes(f, "ACNNT")
    assert "corrupt.fastq.gz" in str(exc.value)


def test_bad_patterns(tmp_path):
    with pytest.raises(DataContractError, match="no wobble"):
        parse_pattern("ACGT")
    with pytest.raises(DataContractError, match="found X"):
        parse_pattern("ACXNN")
    with pytest.raises(DataContractError, match="flanks"):
        parse_pattern("ACGT...")
    f = tmp_path / "library_pattern.txt"
    f.write_text("# comment\nbarcode_length: twenty\npattern: AAA...CCC\n")
    with pytest.raises(DataContractError, match="integer") as exc:
        read_pattern_file(f)
    assert "barcode_length" in str(exc.value)
    f.write_text("pattern: AAA...CCC\nbarcode_length: 12\n")
    p = read_pattern_file(f)
    assert (p.kind, p.barcode_length, p.upstream, p.downstream) == ("flanks", 12, "AAA", "CCC")
