"""Barcode extraction from FASTQ: real genBaRcode and pycashier data, read fates, broken inputs."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from helpers.barcodes import (
    BC32_GFP,
    PYCASHIER_DEFAULT,
    correct_counts,
    extract_barcodes,
    parse_pattern,
    read_pattern_file,
)
from helpers.barcodes.extract import decode_2bit, encode_2bit
from helpers.errors import DataContractError
from helpers.registry import dataset_path


def _fastq(path, reads, *, gz=True, names=None):
    """Write reads [(seq, qual)] as FASTQ(.gz)."""
    text = "".join(f"@{(names or {}).get(i, f'r{i}')}\n{s}\n+\n{q}\n" for i, (s, q) in enumerate(reads))
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def test_genbarcode_bc32_reproduces_published_extraction(public_data):
    res = extract_barcodes(dataset_path("genbarcode", "test_data.fastq.gz"), BC32_GFP, min_mean_quality=30,
                           max_mismatches=0)  # fmt: skip
    c = res.counts[res.counts > 2]
    assert len(c) == 81
    assert (c.min(), round(c.mean(), 2), c.median(), c.max()) == (3, 110.36, 4, 2405)
    exp = pd.read_csv(dataset_path("genbarcode", "derived", "test_data_BC32GFP_mm0_q30_minreads2_extracted.tsv"),
                      sep="\t").set_index("barcode")["read_count"]  # fmt: skip
    pd.testing.assert_series_equal(c.reindex(exp.index), exp, check_names=False, check_dtype=False)
    assert res.n_reads == 40319
    assert res.n_matched + sum(res.rejected.values()) == res.n_reads  # every read has one fate


def test_genbarcode_error_correction_hamming4(public_data):
    res = extract_barcodes(dataset_path("genbarcode", "test_data.fastq.gz"), BC32_GFP, min_mean_quality=30)
    c = res.counts[res.counts > 2]
    ec = correct_counts(c, method="closest_abundant", distance=4, metric="hamming")
    exp = pd.read_csv(dataset_path("genbarcode", "derived", "test_data_EC_hamming4_expected.tsv"), sep="\t")
    assert list(ec.to_numpy()) == [2503, 1555, 1353, 1352, 1138, 1011, 19, 5, 3]
    assert list(ec.index) == list(exp["barcode"])


def test_pycashier_defaults_reproduce_published_output(public_data):
    res = extract_barcodes(dataset_path("pycashier", "rawfastqgzs", "test.fastq.gz"), PYCASHIER_DEFAULT,
                           min_mean_quality=None, min_base_quality=30, max_low_quality_fraction=0.2,
                           max_mismatches=2)  # fmt: skip
    assert res.rejected["low_quality"] == 11
    ec = correct_counts(res.counts, method="message_passing", distance=1, ratio=3, metric="levenshtein")
    ec = ec[abs(ec.index.str.len() - 20) <= 1]
    exp = pd.read_csv(dataset_path("pycashier", "outs", "test.q30.barcodes.r3d1.min0_off1.tsv"), sep="\t")
    assert (len(ec), int(ec.sum())) == (85, 239)
    pd.testing.assert_series_equal(ec.sort_index(), exp.set_index("barcode")["count"].sort_index(),
                                   check_names=False, check_dtype=False)  # fmt: skip


def test_indel_in_flank_needs_the_tolerant_path(public_data):
    # three reads of the pycashier test set need indels: a deletion in the upstream flank, 19- and 21-nt barcodes
    f = dataset_path("pycashier", "rawfastqgzs", "test.fastq.gz")
    kw = dict(min_mean_quality=None, min_base_quality=30, max_mismatches=2)
    assert extract_barcodes(f, PYCASHIER_DEFAULT, indels=False, **kw).n_matched == 236
    assert extract_barcodes(f, PYCASHIER_DEFAULT, indels=True, **kw).n_matched == 239


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
