"""The axes' shared command-line dispatch."""

from __future__ import annotations

import argparse

import pytest

from helpers.cli import run_command
from helpers.dst.__main__ import build_parser as dst_parser
from helpers.errors import DataContractError


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    def broken(args):
        raise DataContractError("plates.csv", "not a number: 'x'", row=3, column="conc_uM")

    ap = argparse.ArgumentParser(prog="python -m helpers.demo")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("ok").set_defaults(func=lambda args: None)
    sub.add_parser("three").set_defaults(func=lambda args: 3)
    sub.add_parser("bad").set_defaults(func=broken)
    return ap


def test_status_of_subcommands(parser):
    assert run_command(parser, ["ok"]) == 0 and run_command(parser, ["three"]) == 3


def test_contract_error_is_one_line_with_status_2(parser, capsys):
    assert run_command(parser, ["bad"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m helpers.demo bad: error: ")
    assert "plates.csv" in err[0] and "row 3" in err[0] and "conc_uM" in err[0]


def test_unknown_subcommand_is_argparse_usage_error():
    with pytest.raises(SystemExit) as exc:
        run_command(dst_parser(), ["nope"])
    assert exc.value.code == 2
