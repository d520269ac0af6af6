"""The axes of the study, declared once (``helpers/data/axes.yaml``) and read by every part that lists them.

An axis is a sub-package (``helpers.dst``), a simulator module (``helpers.simulate.dst``), a notebook (``01_dst``) and
an entry in the registry. The entry names the assay token of ``samples.csv`` (``barcoding`` for the ``barcodes``
axis), the notebook whose ``features.csv`` the integration reads, the groups (``roles``) its features fall in, and the
contract loader, simulator, feature builder and feature dictionary as ``module:function`` strings, imported only when
called, so that reading the registry costs no import of an axis.

The four axes of the study are listed in ``data/axes.yaml``; an added axis brings its entry as a file of its own,
``data/axes.d/<name>.yaml`` (same layout, one or more entries), so that adding an axis edits no existing file. The
contract of every axis's ``features_dictionary.csv`` (its columns, the role and direction vocabularies, the names of
the study's pre-specified biomarkers) is data too, ``data/feature_dictionary.yaml``, checked by
:func:`check_feature_dictionary`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import DataContractError

__all__ = [
    "Axis",
    "DictionarySpec",
    "assay_tokens",
    "axes",
    "axis",
    "axis_of_assay",
    "check_feature_dictionary",
    "dictionary_spec",
    "registry_entries",
    "resolve_entry",
]

REGISTRY = "axes.yaml"
EXTRA_REGISTRIES = "axes.d"  # one file per added axis, read after axes.yaml in file-name order
DICTIONARY_SPEC = "feature_dictionary.yaml"
_FIELDS = ("assay", "notebook", "title", "contract", "simulator", "features", "dictionary")

# The registry's functions import the modules its entries name (``module:function``); those computed imports are
# declared here as a literal (read with ast by the fingerprints of helpers.workflow): the modules of the entry points
# of the registry files named by a function of ``via`` count for every module that calls it, instead of the whole
# package.
__computed_imports__ = {
    "registry": ["data/axes.yaml", "data/axes.d"],
    "via": {"load_contract": ["contract"], "load_simulator": ["simulator"], "load_features": ["features"],
            "load_dictionary": ["dictionary"], "resolve_entry": ["contract", "simulator", "features", "dictionary"]},
}


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
    features
        ``module:function`` that builds the axis's feature table (one row per sample) from its processed data.
    dictionary
        ``module:function`` that returns the axis's feature dictionary (``features_dictionary.csv``).
    roles
        Groups of the axis's features, besides ``id`` and ``qc`` (the ``role`` column of its dictionary).
    simulated_timepoints
        Timepoints at which the simulated cohort plans the assay for every patient (its token in the ``assays`` column
        of ``samples.csv``); empty for the four axes of the study, whose sampling plan is the simulator's own
        (:mod:`helpers.simulate.cohort`).
    """

    name: str
    assay: str
    notebook: str
    title: str
    contract: str
    simulator: str
    features: str
    dictionary: str
    roles: tuple[str, ...] = ()
    simulated_timepoints: tuple[str, ...] = ()

    def load_contract(self) -> Callable:
        """Import and return the contract loader of the axis.

        Returns
        -------
        callable
            The function named by :attr:`contract`.
        """
        return resolve_entry(self.contract)

    def load_simulator(self) -> Callable:
        """Import and return the simulator function of the axis.

        Returns
        -------
        callable
            The function named by :attr:`simulator`.
        """
        return resolve_entry(self.simulator)

    def load_features(self) -> Callable:
        """Import and return the feature-table builder of the axis.

        Returns
        -------
        callable
            The function named by :attr:`features`.
        """
        return resolve_entry(self.features)

    def load_dictionary(self) -> Callable:
        """Import and return the feature-dictionary builder of the axis.

        Returns
        -------
        callable
            The function named by :attr:`dictionary`.
        """
        return resolve_entry(self.dictionary)


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

    Raises
    ------
    ValueError
        ``entry`` is not of the form ``module:function``.
    ModuleNotFoundError, AttributeError
        The module or the function does not exist.
    """
    module, _, name = entry.partition(":")
    if not module or not name:
        raise ValueError(f"{REGISTRY}: entry point {entry!r} is not of the form 'module:function'")
    return getattr(importlib.import_module(module), name)


def _data_dir(pkg_dir: str | Path | None) -> Any:
    return resources.files("helpers").joinpath("data") if pkg_dir is None else Path(pkg_dir) / "data"


def registry_entries(pkg_dir: str | Path | None = None) -> dict[str, dict]:
    """Read the raw registry: ``axes.yaml``, then every ``axes.d/*.yaml`` in file-name order.

    Parameters
    ----------
    pkg_dir
        Folder of a ``helpers`` package to read (default: the installed one); the fingerprints read a package's
        registry without importing it.

    Returns
    -------
    dict
        Axis name -> its entry (a dict of the YAML fields, empty when the entry is), in registry order.

    Raises
    ------
    ValueError
        An axis is declared twice (in one file or across files).
    """
    import yaml

    data = _data_dir(pkg_dir)
    files = [data.joinpath(REGISTRY)]
    extra = data.joinpath(EXTRA_REGISTRIES)
    if extra.is_dir():
        files += sorted((f for f in extra.iterdir() if f.name.endswith((".yaml", ".yml"))), key=lambda f: f.name)
    out: dict[str, dict] = {}
    for f in files:
        raw = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for name, entry in raw.items():
            if name in out:
                raise ValueError(f"{REGISTRY}: axis {name!r} is declared twice ({f.name})")
            out[name] = entry or {}
    return out


@functools.cache
def axes() -> tuple[Axis, ...]:
    """Return every axis, in the registry's order (the order of tables, figures and the integration).

    Returns
    -------
    tuple of Axis
        Read once per process from the package data.

    Raises
    ------
    ValueError
        An entry lacks a required field, or two axes share an assay token or a notebook.
    """
    out = []
    for name, entry in registry_entries().items():
        missing = [f for f in _FIELDS if f not in entry]
        if missing:
            raise ValueError(f"{REGISTRY}: axis {name!r} lacks {', '.join(missing)}")
        roles = tuple(str(r) for r in entry.get("roles") or ())
        timepoints = tuple(str(t) for t in entry.get("simulated_timepoints") or ())
        out.append(Axis(name=name, **{f: str(entry[f]) for f in _FIELDS}, roles=roles, simulated_timepoints=timepoints))
    for field in ("assay", "notebook"):
        values = [getattr(a, field) for a in out]
        if len(set(values)) != len(values):
            raise ValueError(f"{REGISTRY}: two axes share a {field}")
    return tuple(out)


def axis(name: str) -> Axis:
    """Look up the axis called ``name`` (``dst``, ``cytometry``, ``scrna``, ``barcodes``).

    Parameters
    ----------
    name
        Axis name of the registry.

    Returns
    -------
    Axis
        Its entry.

    Raises
    ------
    KeyError
        No axis of that name; the message lists the known ones.
    """
    for a in axes():
        if a.name == name:
            return a
    raise KeyError(f"no axis {name!r} in {REGISTRY} (known: {', '.join(a.name for a in axes())})")


def axis_of_assay(assay: str) -> Axis:
    """Look up the axis whose ``samples.csv`` token is ``assay``.

    Parameters
    ----------
    assay
        Token of the ``assays`` column (``barcoding``).

    Returns
    -------
    Axis
        Its entry.

    Raises
    ------
    KeyError
        No axis has that assay token.
    """
    for a in axes():
        if a.assay == assay:
            return a
    raise KeyError(f"no axis with assay token {assay!r} in {REGISTRY}")


def assay_tokens() -> tuple[str, ...]:
    """List the assay tokens ``samples.csv`` may carry, in registry order.

    Returns
    -------
    tuple of str
        One token per axis.
    """
    return tuple(a.assay for a in axes())


@dataclass(frozen=True)
class DictionarySpec:
    """The contract of ``features_dictionary.csv`` (``data/feature_dictionary.yaml``).

    Attributes
    ----------
    columns
        The columns, in their order.
    roles
        Roles every axis may use (``id``, ``qc``); an axis adds its own (:attr:`Axis.roles`).
    directions
        Allowed non-empty values of ``direction``.
    biomarkers
        Name -> description of the study's pre-specified biomarkers, in the order of the integration's tables.
    """

    columns: tuple[str, ...]
    roles: tuple[str, ...]
    directions: tuple[str, ...]
    biomarkers: dict[str, str]


@functools.cache
def dictionary_spec() -> DictionarySpec:
    """Read the feature-dictionary contract (once per process).

    Returns
    -------
    DictionarySpec
        Columns, role and direction vocabularies, biomarker names.
    """
    import yaml

    raw = yaml.safe_load(_data_dir(None).joinpath(DICTIONARY_SPEC).read_text(encoding="utf-8"))
    return DictionarySpec(columns=tuple(raw["columns"]), roles=tuple(raw["roles"]),
                          directions=tuple(raw["directions"]), biomarkers=dict(raw["biomarkers"]))  # fmt: skip


def check_feature_dictionary(dictionary: Any, path: str | Path, *, axis: Axis | None = None) -> None:
    """Check one axis's feature dictionary against :func:`dictionary_spec`.

    Parameters
    ----------
    dictionary
        The dictionary as read (a pandas DataFrame of strings, missing values as NaN or empty).
    path
        The file it was read from, for the error message.
    axis
        The axis it belongs to: its ``role`` values must be ``id``, ``qc`` or one of the axis's roles (None: any
        non-empty role).

    Raises
    ------
    DataContractError
        Columns missing or out of order, an empty name or role, a role the axis does not declare, an unknown
        biomarker or direction, or a biomarker carried by two features; the message names the row (line of the file,
        header = 1) and column.
    """
    spec = dictionary_spec()
    cols = [str(c) for c in dictionary.columns]
    for i, c in enumerate(spec.columns):
        if c not in cols:
            raise DataContractError(path, f"missing required column '{c}' (columns: {', '.join(spec.columns)})",
                                    column=c)  # fmt: skip
        if cols.index(c) != i:
            raise DataContractError(path, f"column '{c}' must be column {i + 1} ({', '.join(spec.columns)})", column=c)
    allowed = set(spec.roles) | set(axis.roles if axis else ())
    carried: dict[str, int] = {}

    def text(v: Any) -> str:
        return v.strip() if isinstance(v, str) else ""

    for i, r in enumerate(dictionary[list(spec.columns)].itertuples(index=False), start=2):
        name, role, biomarker, direction = text(r.name), text(r.role), text(r.biomarker), text(r.direction)
        if not name:
            raise DataContractError(path, "empty feature name", row=i, column="name")
        if not role:
            raise DataContractError(path, f"feature {name!r} has no role", row=i, column="role")
        if axis is not None and role not in allowed:
            raise DataContractError(path, f"role {role!r} of {name!r} is not one of {', '.join(sorted(allowed))} "
                                    f"(roles of axis {axis.name!r} in {REGISTRY})", row=i, column="role")  # fmt: skip
        if biomarker and biomarker not in spec.biomarkers:
            raise DataContractError(path, f"unknown biomarker {biomarker!r} (known: {', '.join(spec.biomarkers)})",
                                    row=i, column="biomarker")  # fmt: skip
        if biomarker in carried:
            raise DataContractError(path, f"biomarker {biomarker!r} is carried by two features (rows {carried[biomarker]} "
                                    f"and {i}); an axis names one", row=i, column="biomarker")  # fmt: skip
        if biomarker:
            carried[biomarker] = i
        if direction and direction not in spec.directions:
            raise DataContractError(path, f"direction {direction!r} of {name!r} is not one of "
                                    f"{', '.join(spec.directions)} (or empty)", row=i, column="direction")  # fmt: skip
