"""``helpers.notebook.notebook_setup``: folders, warnings policy, figure saving and the figure index."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.notebook import notebook_setup  # noqa: E402


def test_setup_creates_folders_and_indexes_figures(tmp_path):
    nb = notebook_setup("99_demo", output_dir=tmp_path / "out", figures_dir=tmp_path / "figs")
    assert nb.out.is_dir() and nb.figs.is_dir()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert nb.save(ax, "line", section="A section", caption="a line") is None  # a cell ending in it shows no path
    assert all((nb.figs / f"line.{ext}").stat().st_size > 0 for ext in ("pdf", "png"))
    assert not plt.fignum_exists(fig.number)  # closed, so the inline backend does not show it twice
    nb.save(plt.subplots()[0], "line", section="A section", caption="redrawn")  # a re-run cell replaces its entry
    written = pd.read_csv(nb.write_figure_index())
    assert written.to_dict("records") == [
        {"figure": "line", "files": "line.pdf;line.png", "notebook": "99_demo", "section": "A section",
         "caption": "redrawn"}
    ]


def test_figure_name_must_be_a_stem(tmp_path):
    nb = notebook_setup("99_demo", output_dir=tmp_path / "o", figures_dir=tmp_path / "f")
    with pytest.raises(ValueError, match="plain file stem"):
        nb.save(plt.subplots()[0], "../elsewhere")


def test_warnings_policy_hides_library_notices_only(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        notebook_setup("99_demo", output_dir=tmp_path / "o", figures_dir=tmp_path / "f",
                       expected_warnings=[(RuntimeWarning, "Mean of empty slice")])
        warnings.warn("old API", FutureWarning, stacklevel=1)
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
        warnings.warn("overflow in exp", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["overflow in exp"]


def test_expected_warning_needs_a_message(tmp_path):
    with warnings.catch_warnings(), pytest.raises(ValueError, match="message pattern"):
        notebook_setup("99_demo", output_dir=tmp_path / "o", figures_dir=tmp_path / "f",
                       expected_warnings=[(RuntimeWarning, "")])
