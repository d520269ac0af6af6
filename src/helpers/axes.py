"""The axes of the study, declared once (``helpers/data/axes.yaml``) and read by every part that lists them.

An axis is a sub-package (``helpers.dst``), a simulator module (``helpers.simulate.dst``), a notebook (``01_dst``) and
an entry in the registry. The entry names the assay token of ``samples.csv`` (``barcoding`` for the ``barcodes``
axis), the notebook whose ``features.csv`` the integration reads, and the contract loader and simulator as
``module:function`` strings, imported only when called, so that reading the registry costs no import of an axis.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

__all__ = ["Axis", "axes", "axis", "axis_of_assay", "assay_tokens", "resolve_entry"]

REGISTRY = "axes.yaml"
_FIELDS = ("assay", "notebook", "title", "contract", "simulator")


@dataclass(frozen=True)
class Axis:
    """One axis of the study.

    Attributes
    ----------
    name
        Sub-package, data sub-folder and simulator module name (``barcodes``).
    assay
        Token in the ``assays`` column of ``samples.csv`` (``barcoding``).
    notebook
        The notebook that analyses the axis and writes its ``features.csv`` (``04_barcodes``).
    title
        Human-readable name for tables and figures.
    contract
        ``module:function`` that loads and validates the axis's data.
    simulator
        ``module:function`` that writes the axis's simulated files: ``f(tables, out_dir, *, scale, seed)``.
    """

    name: str
    assay: str
    notebook: str
    title: str
    contract: str
    simulator: str

    def load_contract(self) -> Callable:
        """The contract loader, imported now."""
        return resolve_entry(self.contract)

    def load_simulator(self) -> Callable:
        """The simulator function, imported now."""
        return resolve_entry(self.simulator)


def resolve_entry(entry: str) -> Callable:
    """Import ``"package.module:function"`` and return the function.

    Parameters
    ----------
    entry
        A ``module:function`` string of the registry.

    Returns
    -------
    callable
        The function.
    """
    module, _, name = entry.partition(":")
    if not module or not name:
        raise ValueError(f"{REGISTRY}: entry point {entry!r} is not of the form 'module:function'")
    return getattr(importlib.import_module(module), name)


@functools.cache
def axes() -> tuple[Axis, ...]:
    """Every axis, in the registry's order (the order of tables, figures and the integration).

    Returns
    -------
    tuple of Axis
        Read once per process from the package data.
    """
    import yaml

    raw = yaml.safe_load(resources.files("helpers").joinpath("data", REGISTRY).read_text(encoding="utf-8"))
    out = []
    for name, entry in raw.items():
        missing = [f for f in _FIELDS if f not in (entry or {})]
        if missing:
            raise ValueError(f"{REGISTRY}: axis {name!r} lacks {', '.join(missing)}")
        out.append(Axis(name=name, **{f: str(entry[f]) for f in _FIELDS}))
    for field in ("assay", "notebook"):
        values = [getattr(a, field) for a in out]
        if len(set(values)) != len(values):
            raise ValueError(f"{REGISTRY}: two axes share a {field}")
    return tuple(out)


def axis(name: str) -> Axis:
    """The axis called ``name`` (``dst``, ``cytometry``, ``scrna``, ``barcodes``)."""
    for a in axes():
        if a.name == name:
            return a
    raise KeyError(f"no axis {name!r} in {REGISTRY} (known: {', '.join(a.name for a in axes())})")


def axis_of_assay(assay: str) -> Axis:
    """The axis whose ``samples.csv`` token is ``assay``."""
    for a in axes():
        if a.assay == assay:
            return a
    raise KeyError(f"no axis with assay token {assay!r} in {REGISTRY}")


def assay_tokens() -> tuple[str, ...]:
    """The assay tokens ``samples.csv`` may list, in registry order."""
    return tuple(a.assay for a in axes())
