"""Gating defined as data: a documented YAML strategy, its compilation to Gating-ML 2.0, and two ways to apply it.

- :func:`load_strategy` reads a YAML strategy (format in ``strategies/aml_functional.yaml``) and validates it.
- :func:`compile_gatingml` turns it into a FlowKit ``GatingStrategy`` / Gating-ML 2.0 XML for one panel (dimensions
  become detector names, arcsinh(x/150) becomes the Gating-ML ``fasinh`` with the gate coordinates rescaled).
- :func:`apply_strategy` evaluates a strategy directly with numpy on a compensated event matrix: each gate is tested
  only on its parent's events, fluorescence channels are transformed once. It gives the same membership as FlowKit on
  the compiled Gating-ML (tested) and is what the cohort pipeline uses for speed.
- :func:`gate_file` / :func:`gate_files` is the project's gating entry point: a Gating-ML XML file (any of the
  Gating-ML 2.0 gate types and transforms, through FlowKit) or a YAML strategy, applied to FCS files, giving one row per
  file and gate (``file, gate, count, percent_parent``) and the event membership of every gate.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import flowkit as fk
import numpy as np
import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

from ..errors import DataContractError
from . import _kernels
from .fcs import FCSData, read_fcs
from .transforms import compensate, logicle

if TYPE_CHECKING:
    from flowkit._models.gating_results import GatingResults

__all__ = [
    "Gate",
    "Strategy",
    "GatingOutcome",
    "load_strategy",
    "compile_gatingml",
    "apply_strategy",
    "gate_file",
    "gate_files",
    "gate_workspace",
    "flowkit_sample",
    "compensate_for",
    "is_linear_dimension",
]

_LINEAR_PREFIXES = ("FSC", "SSC", "TIME")
_ASINH_M = 4.5  # decades of the Gating-ML fasinh used to express arcsinh(x / cofactor) exactly


def is_linear_dimension(name: str) -> bool:
    """Tell whether a dimension is gated on the linear instrument scale (scatter and time) rather than arcsinh.

    Parameters
    ----------
    name
        A gate dimension: a marker or a detector name (``FSC-A``, ``SSC-H``, ``Time``, ``CD34``...).

    Returns
    -------
    bool
        True for names starting with ``FSC``, ``SSC`` or ``TIME`` (any case); fluorescence dimensions are gated on
        arcsinh(x / cofactor) (or the strategy's logicle scale).
    """
    return name.upper().startswith(_LINEAR_PREFIXES)


@dataclass(frozen=True)
class Gate:
    """One gate of a strategy.

    Attributes
    ----------
    id, parent
        Gate name and the name of its parent (None: all events).
    kind
        "rect", "polygon" or "boolean".
    dims
        Dimensions (markers or scatter channels); empty for boolean gates.
    ranges
        Rectangle: one (min, max) per dimension; None for an open end.
    vertices
        Polygon: (k, 2) array of vertices.
    op, of
        Boolean: "and", "or" or "not" over the gates named in ``of`` (siblings under the same parent).
    """

    id: str
    parent: str | None
    kind: str
    dims: tuple[str, ...] = ()
    ranges: tuple[tuple[float | None, float | None], ...] = ()
    vertices: np.ndarray | None = field(default=None, compare=False)
    op: str = ""
    of: tuple[str, ...] = ()


@dataclass
class Strategy:
    """A validated gating strategy (gates in topological order: parents first)."""

    name: str
    cofactor: float
    compensation: str
    gates: list[Gate]
    source: str = ""
    logicle: dict | None = None  # {t, w, m, a}: fluorescence gated on the logicle scale (0-1) instead of arcsinh
    # for_panel results by channel set: a cohort's files share a few panels (not part of the strategy's identity)
    _panels: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def gate(self, gate_id: str) -> Gate:
        """Look up the gate named ``gate_id``.

        Parameters
        ----------
        gate_id
            The gate's id in the strategy (e.g. ``"blasts"``).

        Returns
        -------
        Gate
            The gate.

        Raises
        ------
        KeyError
            No gate of that id.
        """
        for g in self.gates:
            if g.id == gate_id:
                return g
        raise KeyError(gate_id)

    def path(self, gate_id: str) -> tuple[str, ...]:
        """Return the FlowKit gate path of ``gate_id``: ('root', ancestors...).

        Parameters
        ----------
        gate_id
            The gate's id.

        Returns
        -------
        tuple of str
            ``"root"`` then the ids of its ancestors, outermost first (the gate itself not included).
        """
        chain = []
        parent = self.gate(gate_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self.gate(parent).parent
        return ("root", *reversed(chain))

    def dimensions(self) -> list[str]:
        """List every dimension the strategy uses, in first-use order.

        Returns
        -------
        list of str
            Markers and scatter / time channels named by the gates.
        """
        out: list[str] = []
        for g in self.gates:
            out += [d for d in g.dims if d not in out]
        return out

    def with_logicle(self, *, t: float = 262144, w: float = 0.5, m: float = 4.5, a: float = 0.0) -> Strategy:
        """Convert the gates to the logicle scale, enclosing the same intensities.

        Every fluorescence coordinate v (arcsinh(x / cofactor)) becomes logicle(cofactor sinh(v)); scatter and time
        stay linear.

        Parameters
        ----------
        t, w, m, a
            Logicle parameters (Parks et al. 2006): top of scale (linear units), linearisation width and positive
            decades, additional negative decades.

        Returns
        -------
        Strategy
            A new strategy named ``<name>_logicle`` whose :attr:`logicle` holds the parameters.
        """
        from dataclasses import replace

        def conv(v):
            return None if v is None else float(logicle(np.array([self.cofactor * np.sinh(v)]), t, w, m, a)[0])

        gates = []
        for g in self.gates:
            if g.kind == "rect":
                rng = tuple((lo, hi) if is_linear_dimension(d) else (conv(lo), conv(hi)) for d, (lo, hi) in
                            zip(g.dims, g.ranges, strict=True))  # fmt: skip
                g = replace(g, ranges=rng)
            elif g.kind == "polygon":
                verts = g.vertices.copy()
                for j, d in enumerate(g.dims):
                    if not is_linear_dimension(d):
                        verts[:, j] = [conv(v) for v in verts[:, j]]
                g = replace(g, vertices=verts)
            gates.append(g)
        return Strategy(self.name + "_logicle", self.cofactor, self.compensation, gates, self.source,
                        {"t": float(t), "w": float(w), "m": float(m), "a": float(a)})  # fmt: skip

    def for_panel(self, available: set[str] | list[str]) -> Strategy:
        """Restrict the strategy to gates whose dimensions are all ``available`` (and whose parents are kept).

        Parameters
        ----------
        available
            Markers and channels a panel measures.

        Returns
        -------
        Strategy
            The same strategy without the gates the panel cannot evaluate (cached per channel set).
        """
        available = frozenset(available)
        if available in self._panels:
            return self._panels[available]
        kept: list[Gate] = []
        ids: set[str] = set()
        for g in self.gates:
            ok = (g.parent is None or g.parent in ids) and all(d in available for d in g.dims)
            ok = ok and all(r in ids for r in g.of)
            if ok:
                kept.append(g)
                ids.add(g.id)
        out = Strategy(self.name, self.cofactor, self.compensation, kept, self.source, self.logicle)
        if len(self._panels) < 64:
            self._panels[available] = out
        return out


def _num(v, path, gid):
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError) as err:
        raise DataContractError(path, f"gate '{gid}': bound {v!r} is not a number") from err


def load_strategy(source: str | Path = "aml_functional") -> Strategy:
    """Load and validate a YAML gating strategy.

    Parameters
    ----------
    source
        A YAML file, or the name of a strategy shipped with the package (``strategies/<name>.yaml``).

    Returns
    -------
    Strategy
        The gates in topological order (parents first), with the cofactor and compensation of the file.

    Raises
    ------
    DataContractError
        Unreadable YAML, a gate without id or with an unknown parent / type, duplicated ids, a rectangle without bounds,
        a polygon with fewer than 3 vertices or not 2 dimensions, a boolean referring to an unknown or non-sibling gate.
    """
    p = Path(source)
    if not p.suffix:
        p = Path(str(resources.files("helpers.cytometry") / "strategies" / f"{source}.yaml"))
    if not p.is_file():
        raise DataContractError(p, "gating strategy not found")
    try:
        doc = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        raise DataContractError(p, f"not valid YAML: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("gates"), list):
        raise DataContractError(p, "a strategy needs a 'gates' list")
    gates: list[Gate] = []
    seen: dict[str, Gate] = {}
    for i, g in enumerate(doc["gates"]):
        gid = g.get("id") if isinstance(g, dict) else None
        if not gid:
            raise DataContractError(p, "gate without an 'id'", row=i + 1)
        if gid in seen:
            raise DataContractError(p, f"duplicated gate id '{gid}'", row=i + 1)
        parent = g.get("parent")
        if parent is not None and parent not in seen:
            raise DataContractError(p, f"gate '{gid}': parent '{parent}' is not defined before it", row=i + 1)
        kinds = [k for k in ("rect", "polygon", "boolean") if k in g]
        if len(kinds) != 1:
            raise DataContractError(p, f"gate '{gid}' needs exactly one of rect, polygon, boolean", row=i + 1)
        kind = kinds[0]
        if kind == "rect":
            spec = g["rect"]
            if not isinstance(spec, dict) or not spec:
                raise DataContractError(p, f"gate '{gid}': rect needs {{dimension: [min, max]}}", row=i + 1)
            ranges = []
            for dim, b in spec.items():
                if not isinstance(b, list | tuple) or len(b) != 2:
                    raise DataContractError(p, f"gate '{gid}': bounds of '{dim}' must be [min, max]", row=i + 1)
                lo, hi = _num(b[0], p, gid), _num(b[1], p, gid)
                if lo is None and hi is None:
                    raise DataContractError(p, f"gate '{gid}': dimension '{dim}' has neither min nor max", row=i + 1)
                if lo is not None and hi is not None and lo >= hi:
                    raise DataContractError(p, f"gate '{gid}': min >= max for '{dim}'", row=i + 1)
                ranges.append((lo, hi))
            gate = Gate(gid, parent, kind, tuple(str(d) for d in spec), tuple(ranges))
        elif kind == "polygon":
            spec = g["polygon"]
            dims = tuple(str(d) for d in spec.get("dims", []))
            verts = np.asarray(spec.get("vertices", []), dtype=np.float64)
            if len(dims) != 2 or verts.ndim != 2 or verts.shape[0] < 3 or verts.shape[1] != 2:
                raise DataContractError(p, f"gate '{gid}': polygon needs 2 dims and at least 3 [x, y] vertices", row=i + 1)
            gate = Gate(gid, parent, kind, dims, vertices=verts)
        else:
            spec = g["boolean"]
            op = str(spec.get("op", "")).lower()
            of = tuple(spec.get("of", []))
            if op not in ("and", "or", "not") or not of or (op == "not" and len(of) != 1):
                raise DataContractError(p, f"gate '{gid}': boolean needs op and/or/not and the gates it combines", row=i + 1)
            for r in of:
                if r not in seen or seen[r].parent != parent:
                    raise DataContractError(p, f"gate '{gid}': '{r}' is not a sibling gate defined before it", row=i + 1)
            gate = Gate(gid, parent, kind, op=op, of=of)
        gates.append(gate)
        seen[gid] = gate
    lg = doc.get("logicle")
    if lg is not None:
        if not isinstance(lg, dict) or set(lg) - {"t", "w", "m", "a"}:
            raise DataContractError(p, "logicle needs a mapping of t, w, m, a (Gating-ML 2.0 logicle parameters)")
        lg = {"t": float(lg.get("t", 262144)), "w": float(lg.get("w", 0.5)), "m": float(lg.get("m", 4.5)),
              "a": float(lg.get("a", 0.0))}  # fmt: skip
    return Strategy(str(doc.get("name", p.stem)), float(doc.get("cofactor", 150)), str(doc.get("compensation", "FCS")),
                    gates, str(p.name), lg)  # fmt: skip


# ----------------------------------------------------------------------------------------------------------------------
# Gating-ML 2.0


def compile_gatingml(strategy: Strategy, channels: dict[str, str], *, out: str | Path | None = None) -> fk.GatingStrategy:
    """Compile a strategy to a FlowKit ``GatingStrategy`` (and optionally a Gating-ML 2.0 XML file) for one panel.

    Parameters
    ----------
    strategy
        The strategy (restricted to the panel's dimensions with :meth:`Strategy.for_panel` first).
    channels
        Marker -> detector name ($PnS -> $PnN) of the panel; scatter channels map to themselves.
    out
        Where to write the Gating-ML XML (optional).

    Returns
    -------
    flowkit.GatingStrategy
        The compiled strategy, ready for ``gate_sample``.

    Raises
    ------
    DataContractError
        A fluorescence dimension with no detector in ``channels``.

    Notes
    -----
    arcsinh(x / c) equals the Gating-ML fasinh with A = 0, M = 4.5 and T = c sinh(M ln 10), multiplied by M ln 10,
    so fluorescence coordinates are divided by M ln 10. Fluorescence dimensions use the file's spillover ("FCS").
    """
    gs = fk.GatingStrategy()
    if strategy.logicle is not None:
        lg = strategy.logicle
        scale = 1.0  # gate coordinates are already on the Gating-ML logicle scale
        xform_id = "logicle"
        gs.add_transform(xform_id, fk.transforms.LogicleTransform(lg["t"], lg["w"], lg["m"], lg["a"]))
    else:
        scale = _ASINH_M * np.log(10.0)
        xform_id = f"asinh_cofactor{strategy.cofactor:g}"
        gs.add_transform(xform_id, fk.transforms.AsinhTransform(strategy.cofactor * np.sinh(scale), _ASINH_M, 0.0))

    def dim(name, lo=None, hi=None):
        if is_linear_dimension(name):
            return fk.Dimension(channels.get(name, name), "uncompensated", None, lo, hi)
        if name not in channels:
            raise DataContractError(None, f"strategy '{strategy.name}': no detector for marker '{name}'", channel=name)
        lo, hi = (None if v is None else v / scale for v in (lo, hi))
        return fk.Dimension(channels[name], "FCS", xform_id, lo, hi)

    for g in strategy.gates:
        if g.kind == "rect":
            gate = fk.gates.RectangleGate(g.id, [dim(d, lo, hi) for d, (lo, hi) in zip(g.dims, g.ranges, strict=True)])
        elif g.kind == "polygon":
            verts = g.vertices.copy()
            for j, d in enumerate(g.dims):
                if not is_linear_dimension(d):
                    verts[:, j] = verts[:, j] / scale
            gate = fk.gates.PolygonGate(g.id, [dim(d) for d in g.dims], [list(map(float, v)) for v in verts])
        else:
            refs = [{"ref": r, "path": strategy.path(r), "complement": False} for r in g.of]
            gate = fk.gates.BooleanGate(g.id, g.op, refs)
        gs.add_gate(gate, gate_path=strategy.path(g.id))
    if out is not None:
        buf = io.BytesIO()
        fk.export_gatingml(gs, buf)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(buf.getvalue())
    return gs


# ----------------------------------------------------------------------------------------------------------------------
# Fast evaluation


@dataclass
class GatingOutcome:
    """Gate membership of one file's events.

    Attributes
    ----------
    file
        File name (no folder).
    n_events
        Events in the file.
    membership
        Gate name -> boolean mask over all events (already intersected with the parent gate).
    parents
        Gate name -> parent gate name (None: all events).
    """

    file: str
    n_events: int
    membership: dict[str, np.ndarray]
    parents: dict[str, str | None]

    def stats(self) -> pd.DataFrame:
        """Tabulate the gate statistics of the file.

        Returns
        -------
        pandas.DataFrame
            One row per gate: ``file, gate, parent`` (``root`` for a top gate), ``count`` (events) and
            ``percent_parent`` (% of the parent's events; NaN when the parent is empty).
        """
        rows = []
        for gid, mask in self.membership.items():
            parent = self.parents.get(gid)
            n_par = self.n_events if parent is None else int(self.membership[parent].sum())
            cnt = int(mask.sum())
            rows.append({"file": self.file, "gate": gid, "parent": parent or "root", "count": cnt,
                         "percent_parent": 100.0 * cnt / n_par if n_par else np.nan})  # fmt: skip
        return pd.DataFrame(rows, columns=["file", "gate", "parent", "count", "percent_parent"])


def apply_strategy(data: FCSData, strategy: Strategy, *, compensated: bool = False) -> tuple[GatingOutcome, dict]:
    """Apply a strategy to one file's events with numpy.

    Parameters
    ----------
    data
        Events of one file.
    strategy
        The strategy; gates whose dimensions the file lacks are left out (:meth:`Strategy.for_panel`).
    compensated
        True when ``data`` is already compensated; otherwise the file's spillover is applied (a copy).

    Returns
    -------
    (GatingOutcome, dict)
        Membership per gate, and the gating-scale values of every dimension used (dimension -> 1-D array: arcsinh for
        fluorescence, linear for scatter), for plots and medians.
    """
    names = set(data.markers) | set(data.channels)
    strat = strategy.for_panel(names)
    if not compensated and any(not is_linear_dimension(d) for d in strat.dimensions()):
        data = compensate(data)
    n = data.n_events
    inv_cof = data.events.dtype.type(1.0 / strat.cofactor)
    lg = strat.logicle
    cols = {d: data.column(d) for d in strat.dimensions()}

    cache: dict[tuple[str, str | None], np.ndarray] = {}
    # gate -> which of its parent's events it keeps: a dimension already transformed on an ancestor's events is
    # narrowed down by these masks (a copy) instead of being transformed again (CD45 of cd45pos from singlets').
    kept: dict[str, np.ndarray] = {}

    def narrowed(dim: str, gate: str | None) -> np.ndarray | None:
        # A loop, not recursion: a nested function that calls itself is a reference cycle, which kept every file's
        # events and transformed columns alive until the garbage collector ran (memory grew with the file count).
        chain = []
        while (dim, gate) not in cache:
            if gate is None or gate not in kept:
                return None
            chain.append(gate)
            gate = parents[gate]
        out = cache[dim, gate]
        for g in reversed(chain):
            cache[dim, g] = out = out[kept[g]]
        return out

    def values(dim: str, idx: np.ndarray | None, parent: str | None = None) -> np.ndarray:
        # Transform only the events the gate looks at (children of small populations cost almost nothing), once per
        # dimension and parent (sibling gates such as blasts and lymphocytes share their CD45 and SSC values).
        key = (dim, parent)
        if narrowed(dim, parent) is None:
            col = data.events[:, cols[dim]] if idx is None else data.events[idx, cols[dim]]
            if is_linear_dimension(dim):
                cache[key] = col
            elif lg is not None:
                cache[key] = logicle(col, lg["t"], lg["w"], lg["m"], lg["a"])
            else:
                cache[key] = np.arcsinh(col * inv_cof)
        return cache[key]

    members: dict[str, np.ndarray] = {}
    parents: dict[str, str | None] = {}
    index_cache: dict[str | None, np.ndarray | None] = {None: None}
    for g in strat.gates:
        parents[g.id] = g.parent
        if g.kind == "boolean":
            ms = [members[r] for r in g.of]
            if g.op == "and":
                m = np.logical_and.reduce(ms)
            elif g.op == "or":
                m = np.logical_or.reduce(ms)
            else:
                m = ~ms[0]
            if g.parent is not None:
                m = m & members[g.parent]
            members[g.id] = m
            continue
        if g.parent not in index_cache:
            index_cache[g.parent] = np.flatnonzero(members[g.parent])
        idx = index_cache[g.parent]
        if g.kind == "rect":
            keep = None
            for d, (lo, hi) in zip(g.dims, g.ranges, strict=True):
                v = values(d, idx, g.parent)
                k = (v >= lo) if lo is not None else None
                if hi is not None:
                    k = (v < hi) if k is None else (k & (v < hi))
                keep = k if keep is None else (keep & k)
        else:
            gx, gy = values(g.dims[0], idx, g.parent), values(g.dims[1], idx, g.parent)
            vert = np.asarray(g.vertices, dtype=np.float64)
            keep = np.empty(gx.shape[0], dtype=bool)
            # matplotlib's crossing test compiled (Path.contains_points, same arithmetic): no (n, 2) copy of the events
            _kernels.points_in_polygon(gx, gy, np.ascontiguousarray(vert[:, 0]), np.ascontiguousarray(vert[:, 1]), keep)
        keep = np.asarray(keep, dtype=bool)
        if idx is None:
            m = keep
        else:
            m = np.zeros(n, dtype=bool)
            m[idx[keep]] = True
        members[g.id] = m
        kept[g.id] = keep
    # Gating-scale values of every dimension, computed lazily for plots (not on the hot path).
    scaled = _LazyScaled(lambda d: values(d, None, None), list(cols))
    return GatingOutcome(data.path.name, n, members, parents), scaled


class _LazyScaled(dict):
    """dimension -> gating-scale values, computed on first access."""

    def __init__(self, fn, dims):
        super().__init__()
        self._fn, self._dims = fn, set(dims)

    def __missing__(self, key):
        if key not in self._dims:
            raise KeyError(key)
        self[key] = val = self._fn(key)
        return val

    def __contains__(self, key):
        return key in self._dims


# ----------------------------------------------------------------------------------------------------------------------
# Entry point


def _flowkit_membership(results: GatingResults, report: pd.DataFrame) -> dict[str, np.ndarray]:
    # FlowKit's GatingResults.get_gate_membership tests `None in quadrant_parent`, which pandas 3 stores as NaN, so it
    # fails for every non-quadrant gate; read the raw results with the same keys instead.
    out: dict[str, np.ndarray] = {}
    for _, r in report.iterrows():
        path = "/".join(r.gate_path)
        qp = r.quadrant_parent
        if isinstance(qp, str):
            m = results._raw_results[qp, path][r.gate_name]["events"]
        else:
            m = results._raw_results[r.gate_name, path]["events"]
        out.setdefault(r.gate_name, np.asarray(m, dtype=bool))
    return out


def flowkit_sample(fcs: str | Path) -> fk.Sample:
    """Open the file as a FlowKit ``Sample``, retried with FlowKit's tolerant offset options like :func:`read_fcs`.

    Parameters
    ----------
    fcs
        The FCS file.

    Returns
    -------
    flowkit.Sample
        All events (no subsampling).

    Raises
    ------
    DataContractError
        When FlowKit cannot read the file with any of the options.
    """
    last = None
    for opts in ({}, {"ignore_offset_discrepancy": True}, {"ignore_offset_error": True},
                 {"ignore_offset_error": True, "ignore_offset_discrepancy": True}):  # fmt: skip
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fk.Sample(str(fcs), subsample=0, **opts)
        except Exception as err:  # FlowIO's offset errors come through FlowKit unchanged
            last = err
    raise DataContractError(fcs, f"FlowKit cannot read the file: {last}")


def _checked(fcs: Path, panel: dict[str, str] | None, panel_name: str) -> FCSData:
    data = read_fcs(fcs)
    if panel is not None:
        from .panel import enforce_panel

        enforce_panel(data, panel, panel_name=panel_name)
    return data


def gate_file(fcs: str | Path, gates: str | Path | Strategy, *, spillover: pd.DataFrame | None = None,
              panel: dict[str, str] | None = None, panel_name: str = "") -> GatingOutcome:  # fmt: skip
    """Apply a Gating-ML 2.0 file or a YAML strategy to one FCS file.

    Parameters
    ----------
    fcs
        The FCS file.
    gates
        A Gating-ML 2.0 XML file (every gate type and transform of the standard, through FlowKit; compensation as the
        XML defines it), a YAML strategy file or name, or a loaded :class:`Strategy`.
    spillover
        For a YAML strategy: a spillover matrix that replaces the file's own.
    panel, panel_name
        The file's panel (marker -> detector): checked first (:func:`helpers.cytometry.panel.enforce_panel`); for a
        YAML strategy the stains are also renamed to the panel's markers, so synonyms ("KI67") gate like "Ki-67".

    Returns
    -------
    GatingOutcome
        The gate membership of every event; :meth:`GatingOutcome.stats` tabulates counts and percentages.

    Raises
    ------
    DataContractError
        A missing or invalid Gating-ML file, an unreadable FCS file, a file that does not match ``panel``, or a
        strategy that needs the file's spillover matrix when it has none.
    """
    fcs = Path(fcs)
    if isinstance(gates, str | Path) and Path(gates).suffix.lower() == ".xml":
        xml = Path(gates)
        if not xml.is_file():
            raise DataContractError(xml, "Gating-ML file not found")
        try:
            gs = fk.parse_gating_xml(str(xml))
        except Exception as err:  # FlowKit raises ValueError / KeyError / lxml errors for invalid documents
            raise DataContractError(xml, f"not a valid Gating-ML 2.0 document: {err}") from err
        _checked(fcs, panel, panel_name)  # validates the file with the project's errors before FlowKit parses it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = flowkit_sample(fcs)
            res = gs.gate_sample(sample)
        report = res.report
        members = _flowkit_membership(res, report)
        parents = {r.gate_name: (r.parent if r.parent != "root" else None) for _, r in report.iterrows()}
        return GatingOutcome(fcs.name, sample.event_count, members, parents)
    strat = gates if isinstance(gates, Strategy) else load_strategy(gates)
    data = compensate_for(strat, _checked(fcs, panel, panel_name), spillover)
    outcome, _ = apply_strategy(data, strat, compensated=True)
    return outcome


def compensate_for(strategy: Strategy, data: FCSData, spillover: pd.DataFrame | None = None) -> FCSData:
    """Compensate ``data`` in place as the strategy asks: with ``spillover`` when given, else the file's own matrix.

    Parameters
    ----------
    strategy
        The strategy; its ``compensation`` is ``FCS`` (the file's matrix) or ``none``.
    data
        One file's events (linear scale), modified in place.
    spillover
        Detectors x detectors spillover matrix replacing the file's own (rows: dyes, columns: detectors).

    Returns
    -------
    FCSData
        ``data``, compensated (unchanged when the strategy does not compensate and no matrix is given).

    Raises
    ------
    DataContractError
        The strategy asks for the file's matrix (``compensation: FCS``) and the file has none.
    """
    if spillover is not None:
        return compensate(data, spillover, inplace=True)
    if strategy.compensation.upper() == "FCS":
        # The keyword, not ``data.spillover``: building that DataFrame would cost more than a small file's gating.
        if not any(k in data.metadata for k in ("$SPILLOVER", "$SPILL", "SPILL")):
            raise DataContractError(data.path, "the gating strategy compensates with the file's spillover matrix, "
                                               "but the file has no $SPILLOVER/$SPILL keyword (give a matrix)")  # fmt: skip
        return compensate(data, inplace=True)
    return data


def gate_files(fcs_files: list[str | Path], gates: str | Path | Strategy, *, spillover: pd.DataFrame | None = None,
               panel: dict[str, str] | None = None, panel_name: str = "") -> pd.DataFrame:  # fmt: skip
    """Gate several files (one at a time, so memory stays flat) and stack their statistics.

    Parameters
    ----------
    fcs_files
        The FCS files.
    gates, spillover, panel, panel_name
        As :func:`gate_file` (a YAML strategy is loaded once for all files).

    Returns
    -------
    pandas.DataFrame
        ``file, gate, parent, count, percent_parent``: one row per file and gate.
    """
    strat = gates
    if isinstance(gates, str | Path) and Path(gates).suffix.lower() != ".xml":
        strat = load_strategy(gates)
    with threadpool_limits(1):  # see readouts.process_files: one BLAS thread is faster for the compensation
        frames = [gate_file(f, strat, spillover=spillover, panel=panel, panel_name=panel_name).stats()
                  for f in fcs_files]  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=["file", "gate", "parent", "count", "percent_parent"])
    return pd.concat(frames, ignore_index=True)


def gate_workspace(wsp: str | Path, fcs: str | Path, *, panel: dict[str, str] | None = None,
                   panel_name: str = "") -> pd.DataFrame:  # fmt: skip
    """Apply the gates of a FlowJo workspace to an FCS file (FlowKit's workspace reader) and report counts per gate.

    The file is matched to the workspace sample of the same name (the only sample when the workspace has one).
    Where the workspace stores FlowJo's own event count for a gate, the count computed here must equal it.

    Parameters
    ----------
    wsp
        The FlowJo workspace (``.wsp``).
    fcs
        The FCS file to gate.
    panel, panel_name
        The file's panel (marker -> detector), checked first (:func:`helpers.cytometry.panel.enforce_panel`).

    Returns
    -------
    pandas.DataFrame
        ``file, gate, parent, count, percent_parent``.

    Raises
    ------
    DataContractError
        File missing or unreadable, a workspace that FlowKit cannot parse, no sample of that name in the workspace,
        or a count that differs from the count FlowJo stored.
    """
    wsp, fcs = Path(wsp), Path(fcs)
    for p in (wsp, fcs):
        if not p.is_file():
            raise DataContractError(p, "file not found")
    _checked(fcs, panel, panel_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ws = fk.Workspace(str(wsp), fcs_samples=str(fcs))
        except Exception as err:  # FlowKit raises bare lxml / KeyError / ValueError on malformed workspaces
            raise DataContractError(wsp, f"not a FlowJo workspace FlowKit can read: {type(err).__name__}: {err}") from err
        ids = ws.get_sample_ids()
        sid = fcs.name if fcs.name in ids else (ids[0] if len(ids) == 1 else None)
        if sid is None:
            raise DataContractError(wsp, f"no sample named '{fcs.name}' in the workspace (samples: {', '.join(ids)})")
        ws.analyze_samples(sample_id=sid)
        rep = ws.get_gating_results(sid).report
    out = pd.DataFrame({"file": fcs.name, "gate": rep["gate_name"], "parent": rep["parent"],
                        "count": rep["count"].astype(int), "percent_parent": rep["relative_percent"]})  # fmt: skip
    stored = _flowjo_counts(wsp, sid)
    for g, c in zip(out["gate"], out["count"], strict=True):
        if g in stored and stored[g] != c:
            raise DataContractError(wsp, f"gate '{g}': {c} events computed, FlowJo stored {stored[g]}")
    return out


def _flowjo_counts(wsp: Path, sample_name: str) -> dict[str, int]:
    """Gate name -> the event count FlowJo stored in the workspace (``Population count=``), for one sample."""
    from lxml import etree

    nodes = [n for n in etree.parse(str(wsp)).iter() if isinstance(n.tag, str) and etree.QName(n).localname == "SampleNode"]
    if len(nodes) > 1:
        nodes = [n for n in nodes if n.get("name") == sample_name]
    out: dict[str, int] = {}
    for node in nodes:
        for pop in node.iter():
            if isinstance(pop.tag, str) and etree.QName(pop).localname == "Population" and pop.get("count"):
                out[pop.get("name")] = int(pop.get("count"))
    return out
