"""Read-outs from a FlowJo workspace: the gates a flow core drew in FlowJo, applied by FlowKit to a sample sheet.

:func:`workspace_readouts` gives the tables of :func:`helpers.cytometry.readouts.process_files` (``stats``, ``mfi``,
``qc``, keyed by tube id) with the workspace's gates in place of the YAML strategy: counts per gate through
:func:`helpers.cytometry.gating.gate_workspace` (FlowKit's ``Workspace``; every count FlowJo stored in the workspace
must be reproduced, else a :class:`DataContractError` names the gate), MFIs of :data:`MFI_READOUTS` in the gates the
workspace defines, on the file's own compensation (as the YAML strategy does). The per-sample features follow when
the workspace names its gates as the project's strategy does (``blasts``, ``lsc``, ...); :func:`missing_gates` says
which are absent.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataContractError
from .fcs import read_fcs
from .privacy import tube_id
from .qc import qc_file
from .readouts import GATED_PANELS, MFI_READOUTS
from .transforms import compensate

if TYPE_CHECKING:
    from .gating import Strategy

__all__ = ["workspace_readouts", "missing_gates", "export_workspace", "FEATURE_GATES"]

# Gates the per-sample features are computed from (readouts.sample_features).
FEATURE_GATES = ("cd45pos", "blasts", "monocytic", "cd34pos", "lsc", "viable", "apoptotic")
_MIN_EVENTS_MFI = 5


def missing_gates(stats: pd.DataFrame) -> list[str]:
    """List the gates of :data:`FEATURE_GATES` that the workspace does not define.

    Parameters
    ----------
    stats
        Counts per gate (a ``gate`` column), e.g. ``workspace_readouts(...)["stats"]``.

    Returns
    -------
    list of str
        The missing gate names, in :data:`FEATURE_GATES` order.
    """
    return [g for g in FEATURE_GATES if g not in set(stats["gate"])]


def _memberships(wsp: Path, fcs: Path, gates: list[str]) -> dict[str, np.ndarray]:
    import flowkit as fk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = fk.Workspace(str(wsp), fcs_samples=str(fcs))
        ids = ws.get_sample_ids()
        sid = fcs.name if fcs.name in ids else ids[0]
        ws.analyze_samples(sample_id=sid)
        out = {}
        for g in gates:
            try:
                out[g] = np.asarray(ws.get_gate_membership(sid, g), dtype=bool)
            except Exception:  # noqa: BLE001 - a gate name used on several paths is ambiguous: no MFI for it
                continue
    return out


def workspace_readouts(sheet: pd.DataFrame, wsp: str | Path, *,
                       panels: dict[str, dict[str, str]] | None = None) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Gate every file of a sample sheet with a FlowJo workspace and measure it.

    Parameters
    ----------
    sheet
        Validated sample sheet (only the tubes of :data:`GATED_PANELS`).
    wsp
        FlowJo 10 workspace (``.wsp``); each file is matched to the workspace sample of the same name.
    panels
        ``{panel: {marker: detector}}``: every file is checked against its tube's panel first.

    Returns
    -------
    dict
        ``stats`` (gate, parent, count, percent_parent), ``mfi`` (gate, marker, n, median) and ``qc``, each with
        ``tube_id, sample_id, panel, condition``.

    Raises
    ------
    DataContractError
        A tube whose panel ``panels`` does not define, or any problem :func:`helpers.cytometry.gate_workspace` finds
        (missing file or sample, a count that differs from FlowJo's).
    """
    from .gating import gate_workspace

    wsp = Path(wsp)
    keys = ["tube_id", "sample_id", "panel", "condition"]
    stats, mfis, qcs = [], [], []
    for r in sheet[sheet["panel"].isin(GATED_PANELS)].itertuples(index=False):
        meta = {"tube_id": tube_id(r.sample_id, r.panel, r.condition), "sample_id": r.sample_id, "panel": r.panel,
                "condition": r.condition}
        panel = None if panels is None else panels.get(r.panel)
        if panels is not None and panel is None:
            raise DataContractError(wsp, f"panel '{r.panel}' of the sheet is not defined in panels.csv", column="panel")
        st = gate_workspace(wsp, r.path, panel=panel, panel_name=r.panel)
        stats.append(st.drop(columns="file").assign(**meta))
        data = read_fcs(r.path)
        q = qc_file(data, cofactor=150.0)
        q["events_kept"] = data.n_events
        qcs.append({**meta, **q})
        if data.spillover is not None:
            data = compensate(data, inplace=True)
        members = _memberships(wsp, Path(r.path), sorted({g for g, _ in MFI_READOUTS} & set(st["gate"])))
        for gate, marker in MFI_READOUTS:
            if gate not in members or marker not in data.markers:
                continue
            vals = data.events[members[gate], data.column(marker)]
            med = float(np.median(vals)) if vals.size >= _MIN_EVENTS_MFI else np.nan
            mfis.append({**meta, "gate": gate, "marker": marker, "n": int(vals.size), "median": med})
    order = lambda df, cols: df[keys + cols] if len(df) else pd.DataFrame(columns=keys + cols)  # noqa: E731
    return {
        "stats": order(pd.concat(stats, ignore_index=True) if stats else pd.DataFrame(),
                       ["gate", "parent", "count", "percent_parent"]),  # fmt: skip
        "mfi": order(pd.DataFrame(mfis), ["gate", "marker", "n", "median"]),
        "qc": pd.DataFrame(qcs),
    }


def export_workspace(strategy: str | Path | Strategy, channels: dict[str, str], fcs: list[str | Path],
                     out: str | Path, *, group: str = "DREAM") -> Path:  # fmt: skip
    """Write the project's gating strategy for one panel as a FlowJo 10 workspace (FlowKit's writer).

    A flow core can open the project's gates in FlowJo (the gates carry the project's names: ``blasts``, ``lsc``...),
    adjust them there, and hand the workspace back to ``gate --gates`` / ``readouts --gating``. FlowKit writes
    logicle, not arcsinh, transforms into a workspace, so the strategy is moved to the logicle scale first
    (:meth:`Strategy.with_logicle`): the gates enclose the same intensities at their vertices, and a polygon's edges,
    straight on the logicle scale, bend slightly against the arcsinh ones (a few events per thousand move).

    Parameters
    ----------
    strategy
        :class:`helpers.cytometry.gating.Strategy` (or a strategy name or YAML path).
    channels
        Marker -> detector of the panel (``panels.csv``).
    fcs
        The panel's files to list in the workspace (each is a FlowJo sample, named by its file name, which must be
        unique).
    out
        The ``.wsp`` to write.
    group
        FlowJo sample group.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    DataContractError
        Two files with the same name, or a marker of the gates with no detector in ``channels``.
    """
    import flowkit as fk

    from .gating import Strategy, compile_gatingml, load_strategy

    strat = strategy if isinstance(strategy, Strategy) else load_strategy(strategy)
    names = [Path(f).name for f in fcs]
    if len(set(names)) != len(names):
        raise DataContractError(out, "a workspace names its samples by file name: the files' names must be unique")
    st = strat.with_logicle().for_panel(set(channels) | {"FSC-A", "FSC-H", "SSC-A"})
    gs = compile_gatingml(st, channels)
    out = Path(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sess = fk.Session(gating_strategy=gs, fcs_samples=[str(f) for f in fcs])
        with open(out, "wb") as fh:
            sess.export_wsp(fh, group)
    return out
