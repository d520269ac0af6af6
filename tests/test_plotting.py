"""Figure conventions of helpers.plotting: labels that do not overlap, readable term names, micro signs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from helpers.plotting import compact_ticks, label_points, legend_from_colors, micro, readable_term  # noqa: E402


def _overlaps(texts, fig) -> int:
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in texts]
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_label_points_separates_crowded_labels():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 0.05, 12), rng.normal(5, 0.05, 12)
    labels = [f"GENE{i}" for i in range(12)]
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(x, y)
    ax.set(xlim=(-2, 2), ylim=(0, 10))  # twelve labels within a few points of each other
    naive = [ax.text(a, b, s, fontsize=6) for a, b, s in zip(x, y, labels, strict=True)]
    before = _overlaps(naive, fig)
    for t in naive:
        t.remove()
    after = _overlaps(label_points(ax, x, y, labels), fig)
    plt.close(fig)
    assert before > 10 and after < before / 3


def test_compact_ticks_do_not_overlap_on_a_raw_scatter_scale():
    fig, ax = plt.subplots(figsize=(1.8, 1.8))
    ax.set_xlim(0, 262144)
    compact_ticks(ax)
    fig.canvas.draw()
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    assert all(t.get_text().endswith("k") or t.get_text() == "0" for t in labels)
    assert _overlaps(labels, fig) == 0
    plt.close(fig)


def test_legend_from_colors():
    fig, ax = plt.subplots()
    leg = legend_from_colors(ax, {"vehicle": "#999999", "aza+ven": "#D55E00"}, title="arm")
    assert [t.get_text() for t in leg.get_texts()] == ["vehicle", "aza+ven"]
    plt.close(fig)


def test_readable_term_and_micro():
    names = {"eln2024": "ELN 2024 risk", "ven_auc": "venetoclax AUC"}
    assert readable_term("eln2024[intermediate] (intermediate vs favorable)", names) == (
        "ELN 2024 risk: intermediate vs favorable")
    assert readable_term("ven_auc (per SD)", names) == "venetoclax AUC (per SD)"
    assert readable_term("C(eln2024)[T.adverse]", names) == "ELN 2024 risk: adverse"
    assert readable_term("bm_blast_pct") == "bm blast pct"
    assert micro("conc (uM), 10 uL; uMol stays") == "conc (µM), 10 µL; uMol stays"
