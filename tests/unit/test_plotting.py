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


def _crowded_label_positions() -> list[tuple[float, float]]:
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 0.05, 30), rng.normal(5, 0.05, 30)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(x, y)
    ax.set(xlim=(-2, 2), ylim=(0, 10))
    texts = label_points(ax, x, y, [f"GENE{i}" for i in range(30)])
    pos = [t.get_position() for t in texts]
    plt.close(fig)
    return pos


def test_label_positions_do_not_depend_on_machine_speed(monkeypatch):
    """adjustText stops after 1 s of wall time by default; label_points counts iterations instead."""
    import adjustText

    quiet = _crowded_label_positions()
    clock = iter(range(0, 10**6, 10))  # a machine where each iteration seems to take 10 s
    monkeypatch.setattr(adjustText, "timer", lambda: next(clock))
    slow = _crowded_label_positions()
    assert np.allclose(quiet, slow, rtol=0, atol=1e-12)


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


# --- one-panel functions draw into the given Axes and return it (scanpy's pattern) -------------------------------

def test_one_panel_functions_draw_into_the_given_axes_and_return_it():
    import pandas as pd

    from helpers.barcodes.plots import plot_pvalue_qq, plot_rarefaction
    from helpers.cytometry.plots import plot_embedding
    from helpers.dst.plots import plot_groups, plot_waterfall
    from helpers.integration.figures import calibration_plot, km_plot
    from helpers.scrna.plots import plot_annotation_confusion

    rng = np.random.default_rng(1)
    vals = pd.Series(rng.normal(100, 20, 12), index=[f"S{i}" for i in range(12)])
    groups = pd.Series(["responder", "primary_resistant"] * 6, index=vals.index)
    surv = pd.DataFrame({"t": rng.uniform(1, 30, 40), "e": rng.integers(0, 2, 40), "g": ["a", "b"] * 20})
    cells = pd.Series(["T", "B", "NK", "T"] * 5)
    bins = pd.DataFrame({"mean_predicted": [0.2, 0.5], "observed": [0.25, 0.45], "ci_low": [0.1, 0.3],
                         "ci_high": [0.4, 0.6]})  # fmt: skip
    calls = [
        lambda ax: plot_waterfall(vals, groups, ylabel="venetoclax AUC", ax=ax),
        lambda ax: plot_groups(pd.DataFrame({"v": vals, "g": groups}), value="v", group="g",
                               order=["responder", "primary_resistant"], ylabel="AUC", ax=ax),  # fmt: skip
        lambda ax: plot_pvalue_qq({"null": rng.uniform(size=50)}, ax=ax),
        lambda ax: plot_rarefaction({"m1": (np.arange(5), np.arange(5) ** 0.5)}, ax=ax),
        lambda ax: plot_embedding(rng.normal(size=(30, 2)), np.arange(30) % 3, ax=ax),
        lambda ax: km_plot(surv, "t", "e", "g", xlabel="months", ylabel="event-free", ax=ax),
        lambda ax: calibration_plot(bins, {"calibration_slope": 1.0, "calibration_intercept": 0.0, "brier": 0.2},
                                    ax=ax),  # fmt: skip
        lambda ax: plot_annotation_confusion(cells, cells.sample(frac=1, random_state=0).set_axis(cells.index),
                                             ax=ax),  # fmt: skip
    ]
    for draw in calls:
        fig, axes = plt.subplots(1, 2)
        before = plt.get_fignums()
        assert draw(axes[1]) is axes[1]
        assert plt.get_fignums() == before  # no figure of its own
        assert axes[1].has_data() or axes[1].images and not axes[0].has_data()
        assert axes[1].get_xlabel()
        plt.close(fig)
    alone = plot_waterfall(vals, groups, ylabel="venetoclax AUC")  # without ax: a new figure, its Axes returned
    assert isinstance(alone, plt.Axes) and alone.figure.get_size_inches()[0] == 6
    plt.close(alone.figure)


def test_save_figure_accepts_the_axes_a_plot_function_returns(tmp_path):
    from helpers.plotting import figure_of, save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    assert figure_of(ax) is fig and figure_of(fig) is fig
    paths = save_figure(ax, tmp_path / "line", show=False)
    assert [p.suffix for p in paths] == [".pdf", ".png"] and all(p.stat().st_size > 0 for p in paths)
    plt.close(fig)


def test_multi_panel_functions_draw_into_given_axes():
    import pandas as pd

    from helpers.integration.figures import paired_plot

    samples = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "timepoint": ["diagnosis", "relapse"] * 2,
                            "ven_auc": [100.0, 150.0, 120.0, 110.0], "bcl2_family_score": [0.1, 0.5, 0.2, 0.3]})
    fig, axes = plt.subplots(2, 1)
    assert paired_plot(samples, ["ven_auc", "bcl2_family_score"], units={"ven_auc": "% x log10(uM)"},
                       names={"ven_auc": "venetoclax AUC"}, axes=axes) is fig  # fmt: skip
    assert axes[0].get_ylabel() == "venetoclax AUC (% x log10(µM))"  # readable name, unit with µ
    assert axes[1].get_ylabel() == "bcl2 family score (score, unitless)"  # not in names: underscores as spaces
    plt.close(fig)


# --- readable names of model terms and features -------------------------------------------------------------------

DICTIONARY = {
    "name": ["eln2024", "ven_auc", "bcl2_family_score", "age", "spec_apoptosis_ven", "pct_cd34", "ven_ic50_um"],
    "definition": ["ELN 2024 genetic risk for less-intensive therapy (Dohner et al. 2024)",
                   "Venetoclax AUC of the fitted viability over the tested range (BeatAML definition)",
                   "log2(BCL2 / sqrt(BCL-xL x MCL1)) MFIs in LSCs", "Age at diagnosis",
                   "specific apoptosis to venetoclax: 100 (VEN - untreated) / (100 - untreated)",
                   "CD34+ leukemic cells, untreated tubes pooled", "Venetoclax IC50 of the fitted curve"],
}  # fmt: skip


def test_readable_names_from_a_feature_dictionary():
    import pandas as pd

    from helpers.plotting import readable_names

    names = readable_names(pd.DataFrame(DICTIONARY))
    assert names == {
        "eln2024": "ELN 2024 risk", "ven_auc": "venetoclax AUC", "bcl2_family_score": "BCL2 family score",
        "age": "Age at diagnosis", "spec_apoptosis_ven": "specific apoptosis to venetoclax",
        "pct_cd34": "CD34 (%)", "ven_ic50_um": "Venetoclax IC50 of the fitted curve",
    }  # fmt: skip
    # A label column wins; a plain list of columns is written out from the names.
    assert readable_names(pd.DataFrame({"name": ["x_y"], "label": ["The X"]})) == {"x_y": "The X"}
    assert readable_names(["azaven_zip_mean", "log10_mrd", "npm1_or_idh"]) == {
        "azaven_zip_mean": "AZA+VEN ZIP mean", "log10_mrd": "log10 MRD", "npm1_or_idh": "NPM1 or idh"}


def test_forest_plot_table_and_heatmap_show_readable_names():
    import pandas as pd

    from helpers.integration.figures import biomarker_heatmap, forest_plot, readable_terms
    from helpers.plotting import readable_names

    names = readable_names(pd.DataFrame(DICTIONARY))
    table = pd.DataFrame({"term": ["eln2024[intermediate]", "ven_auc"], "scale": ["intermediate vs favorable", "per SD"],
                          "odds_ratio": [2.6, 2.4], "ci_low": [0.7, 0.8], "ci_high": [10.1, 7.4], "p": [0.16, 0.13]})
    shown = readable_terms(table, names)
    assert list(shown.columns[:2]) == ["label", "term"]
    assert list(shown["label"]) == ["ELN 2024 risk: intermediate vs favorable", "venetoclax AUC (per SD)"]
    labelled = table.assign(label=table["term"] + " (" + table["scale"] + ")")
    ax = forest_plot(labelled, label="label", estimate="odds_ratio", low="ci_low", high="ci_high",
                     xlabel="odds ratio (95% CI), log scale", names=names)  # fmt: skip
    assert [t.get_text() for t in ax.get_yticklabels()] == list(shown["label"])
    raw = forest_plot(labelled, label="label", estimate="odds_ratio", low="ci_low", high="ci_high", xlabel="OR")
    assert [t.get_text() for t in raw.get_yticklabels()][1] == "ven_auc (per SD)"  # names=None: as given
    rng = np.random.default_rng(0)
    patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(8)], "response_group": ["a", "b"] * 4,
                             "ven_auc": rng.normal(size=8), "bcl2_family_score": rng.normal(size=8)})
    hm = biomarker_heatmap(patients, ["ven_auc", "bcl2_family_score"], group="response_group",
                           sources={"ven_auc": "dst", "bcl2_family_score": "cytometry"}, names=names)  # fmt: skip
    rows = [t.get_text() for t in hm.get_yticklabels()]
    assert rows == ["BCL2 family score [cytometry]", "venetoclax AUC [dst]"]
    assert not any("_" in r for r in rows)
    plt.close("all")


def test_readable_names_skip_definitions_that_are_not_names():
    import pandas as pd

    from helpers.plotting import readable_names

    d = pd.DataFrame({"name": ["ven_zdss2", "log10_ven_ic50_um", "ven_dss2", "frac_lspc_cycle"], "definition": [
        "Venetoclax DSS2 as (x - mean)/(SD + 1) against the cohort's diagnosis samples",  # parenthesis mid-sentence
        "log10 of ven_ic50_um: Venetoclax IC50, clamped to the tested range",  # a column name inside
        "Venetoclax DSS2 (Yadav 2014, threshold 10 %); higher = more sensitive",  # the phrase ends at the parenthesis
        "LSPC-Cycle cells among the sample's leukemic cells (Zeng 2022)"]})  # too long: from the column  # fmt: skip
    assert readable_names(d) == {"ven_zdss2": "venetoclax zDSS2", "log10_ven_ic50_um": "log10 venetoclax IC50 (µM)",
                                 "ven_dss2": "Venetoclax DSS2", "frac_lspc_cycle": "LSPC cycle fraction"}
