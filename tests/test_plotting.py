"""Tests for helpers.plotting: what the figures contain, and clear errors for bad input.

Figures are drawn with the non-interactive Agg backend and inspected through
matplotlib's objects (bars, lines, images, tick labels), never as pixels.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from helpers.plotting import plot_distribution, plot_heatmap, plot_losses  # noqa: E402
from helpers.training import TrainHistory, smooth_losses  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def heights(ax):
    return [bar.get_height() for bar in ax.patches]


def xticklabels(ax):
    return [t.get_text() for t in ax.get_xticklabels()]


def yticklabels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


# --------------------------------------------------------------------------
# plot_distribution
# --------------------------------------------------------------------------
PROBS = np.array([0.1, 0.4, 0.05, 0.3, 0.15])
CHARS = ["a", " ", "\n", "b", "\t"]


def test_distribution_bars_are_the_probabilities_in_vocabulary_order():
    ax = plot_distribution(PROBS, CHARS)
    assert heights(ax) == pytest.approx(PROBS.tolist(), abs=0)
    # whitespace is shown readably, other characters as themselves
    assert xticklabels(ax) == ["a", "␣", "\\n", "b", "\\t"]
    assert ax.get_xlabel() == "next character"
    assert ax.get_ylabel() == "probability"
    assert ax.get_title() == ""  # nothing hidden, no title asked for


def test_distribution_accepts_a_softmax_column_a_row_and_a_torch_tensor():
    column = plot_distribution(PROBS.reshape(-1, 1), CHARS)
    row = plot_distribution(PROBS.reshape(1, -1), CHARS)
    tensor = plot_distribution(torch.tensor(PROBS).reshape(-1, 1))
    for ax in (column, row, tensor):
        assert heights(ax) == pytest.approx(PROBS.tolist(), abs=0)


def test_labels_show_invisible_characters_and_tokens_readably():
    labels = ["", "\x00", "é", "<pad>", "a b", "\r", 7]
    ax = plot_distribution(np.full(7, 1 / 7), labels)
    assert xticklabels(ax) == ["''", "\\x00", "é", "<pad>", "a␣b", "\\r", "7"]


def test_distribution_without_labels_uses_indices_and_category():
    ax = plot_distribution([0.2, 0.5, 0.3], title="three")
    assert xticklabels(ax) == ["0", "1", "2"]
    assert ax.get_xlabel() == "category"
    assert ax.get_title() == "three"


def test_distribution_top_k_shows_the_most_probable_sorted_descending():
    ax = plot_distribution(PROBS, CHARS, top_k=3)
    assert heights(ax) == [0.4, 0.3, 0.15]
    assert xticklabels(ax) == ["␣", "b", "\\t"]
    assert "3" in ax.get_title() and "5" in ax.get_title()  # "3 most probable of 5"


def test_distribution_top_k_without_labels_keeps_the_original_indices():
    ax = plot_distribution(PROBS, top_k=2)
    assert xticklabels(ax) == ["1", "3"]


def test_distribution_top_k_larger_than_v_shows_everything_sorted():
    ax = plot_distribution(PROBS, CHARS, top_k=50)
    assert heights(ax) == sorted(PROBS.tolist(), reverse=True)


def test_distribution_highlight_by_label_index_and_list():
    def colours(ax):
        return [to_rgba(bar.get_facecolor()) for bar in ax.patches]

    by_label = colours(plot_distribution(PROBS, CHARS, highlight="b"))
    normal = by_label[0]
    assert by_label[3] != normal
    assert [c == normal for c in by_label] == [True, True, True, False, True]

    by_index = colours(plot_distribution(PROBS, CHARS, highlight=[0, "\n"]))
    assert [c == normal for c in by_index] == [False, True, False, True, True]

    # the highlight follows the entry when top_k reorders the bars: "b" is 2nd most probable
    top = colours(plot_distribution(PROBS, CHARS, highlight="b", top_k=3))
    assert [c == normal for c in top] == [True, False, True]


def test_distribution_draws_on_the_given_axes_and_does_not_create_figures():
    fig, ax = plt.subplots()
    before = plt.get_fignums()
    assert plot_distribution(PROBS, ax=ax) is ax
    assert plt.get_fignums() == before
    assert len(ax.patches) == len(PROBS)


def test_distribution_new_figure_grows_with_the_number_of_bars():
    small = plot_distribution(np.full(5, 0.2)).figure.get_figwidth()
    large = plot_distribution(np.full(100, 0.01)).figure.get_figwidth()
    assert small < large <= 16


def test_distribution_with_many_bars_skips_tick_labels():
    probs = np.full(500, 1 / 500)
    ax = plot_distribution(probs)
    assert len(ax.patches) == 500
    assert "499" not in xticklabels(ax)  # matplotlib's default numeric ticks, not 500 labels


@pytest.mark.parametrize("probs, match", [
    (np.ones((2, 3)) / 6, r"plot_distribution: `probs` must have shape \(V,\) or \(V, 1\).*\(2, 3\)"),
    (np.ones((2, 2, 1)), r"`probs` must have shape.*\(2, 2, 1\)"),
    (np.array([]), r"`probs` must have shape.*V >= 1"),
    (np.array([0.5, -0.1, 0.6]), r"`probs` must be non-negative, got -0.1 at index 1"),
    (np.array([0.5, np.nan]), r"`probs` must be finite, got nan at index \[1\]"),
    (np.array([np.inf, 0.0]), r"`probs` must be finite, got inf at index \[0\]"),
])
def test_distribution_rejects_bad_probs(probs, match):
    with pytest.raises(ValueError, match=match):
        plot_distribution(probs)


@pytest.mark.parametrize("probs", ["abc", None, [True, False], [[0.5], [0.2, 0.3]]])
def test_distribution_rejects_non_numeric_probs(probs):
    with pytest.raises(TypeError, match=r"plot_distribution: `probs` must be an array .*got"):
        plot_distribution(probs)


def test_distribution_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"`labels` must have one label per entry \(5\), got 4"):
        plot_distribution(PROBS, CHARS[:4])
    with pytest.raises(TypeError, match=r"`labels\[2\]` must be a str .*got float 1.5"):
        plot_distribution([0.5, 0.25, 0.25], ["a", "b", 1.5])
    with pytest.raises(TypeError, match=r"`labels` must be a sequence .*got int 3"):
        plot_distribution([0.5, 0.25, 0.25], 3)


@pytest.mark.parametrize("top_k", [0, -1, 2.0, True, "3"])
def test_distribution_rejects_bad_top_k(top_k):
    with pytest.raises(ValueError, match=r"plot_distribution: `top_k` must be an int >= 1 or None"):
        plot_distribution(PROBS, top_k=top_k)


def test_distribution_rejects_bad_highlight_and_ax():
    with pytest.raises(ValueError, match=r"`highlight` names 'z' but it is not one of the labels"):
        plot_distribution(PROBS, CHARS, highlight="z")
    with pytest.raises(ValueError, match=r"`highlight` names 'a' but there are no labels"):
        plot_distribution(PROBS, highlight="a")
    with pytest.raises(ValueError, match=r"`highlight` index must be in \[0, 4\], got 5"):
        plot_distribution(PROBS, highlight=5)
    with pytest.raises(TypeError, match=r"`highlight` must be a label, an index"):
        plot_distribution(PROBS, highlight=1.0)
    fig = plt.figure()
    with pytest.raises(TypeError, match=r"plot_distribution: `ax` must be a matplotlib Axes.*Figure"):
        plot_distribution(PROBS, ax=fig)
    with pytest.raises(TypeError, match=r"`title` must be a str or None, got int 3"):
        plot_distribution(PROBS, title=3)


# --------------------------------------------------------------------------
# plot_losses
# --------------------------------------------------------------------------
def test_losses_raw_and_smoothed_lines():
    losses = [4.0, 3.0, 3.5, 2.0]
    smoothed = smooth_losses(losses, beta=0.5)
    ax = plot_losses(losses, smoothed=smoothed)
    raw_line, smooth_line = ax.lines
    np.testing.assert_array_equal(raw_line.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(raw_line.get_ydata(), losses)
    np.testing.assert_array_equal(smooth_line.get_ydata(), smoothed)
    assert smooth_line.get_linewidth() > raw_line.get_linewidth()  # the smoothed curve stands out
    assert raw_line.get_alpha() < 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss", "smoothed"]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Training loss", "step",
                                                                  "loss (nats)")
    assert ax.get_yscale() == "linear"


def test_losses_from_a_train_history_smooths_by_default():
    history = TrainHistory(steps=3, losses=[3.0, 2.0, 1.0])
    ax = plot_losses(history, title="RNN", ylabel="nats", xlabel="iteration", logy=True)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3.0, 2.0, 1.0])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), history.smoothed())
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("RNN", "iteration", "nats")
    assert ax.get_yscale() == "log"


def test_losses_alone_draw_one_line_on_the_given_axes():
    fig, ax = plt.subplots()
    assert plot_losses(torch.tensor([1.0, 0.5]), ax=ax) is ax
    assert len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5])


def test_losses_reject_bad_input():
    with pytest.raises(ValueError, match=r"plot_losses: `losses` must be a non-empty 1-D .*\(2, 2\)"):
        plot_losses(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"`losses` must be a non-empty 1-D .*\(0,\)"):
        plot_losses([])
    with pytest.raises(ValueError, match=r"`losses` must be finite, got nan at index \[1\]"):
        plot_losses([1.0, np.nan])
    with pytest.raises(ValueError, match=r"`smoothed` must have one value per loss, shape \(3,\)"):
        plot_losses([1.0, 2.0, 3.0], smoothed=[1.0, 2.0])
    with pytest.raises(TypeError, match=r"plot_losses: `losses` must be an array .*got str"):
        plot_losses("1 2 3")
    with pytest.raises(ValueError, match=r"`logy=True` needs positive losses"):
        plot_losses([1.0, 0.0], logy=True)
    with pytest.raises(ValueError, match=r"TrainHistory with no steps"):
        plot_losses(TrainHistory())
    with pytest.raises(TypeError, match=r"plot_losses: `ax` must be a matplotlib Axes"):
        plot_losses([1.0], ax="left")


# --------------------------------------------------------------------------
# plot_heatmap
# --------------------------------------------------------------------------
def test_heatmap_image_is_the_data_with_symmetric_limits_and_a_colorbar():
    values = np.array([[-0.5, 0.2, 0.9], [0.1, -0.3, 0.0]])
    ax = plot_heatmap(values, row_labels=[7, 9], col_labels="a b", title="activations",
                      colorbar_label="h")
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), values)
    assert image.get_clim() == (-0.9, 0.9)
    assert image.get_cmap().name == "RdBu_r"
    assert xticklabels(ax) == ["a", "␣", "b"]
    assert yticklabels(ax) == ["7", "9"]
    assert ax.get_title() == "activations"
    colorbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbars) == 1 and colorbars[0].get_ylabel() == "h"


def test_heatmap_limits_follow_the_data_when_one_sign_or_given():
    positive = plot_heatmap(np.array([[0.2, 0.8], [0.5, 0.4]]), cmap="viridis")
    assert positive.images[0].get_clim() == (0.2, 0.8)
    assert positive.images[0].get_cmap().name == "viridis"
    fixed = plot_heatmap(torch.tensor([[-0.5, 0.2]], dtype=torch.float64), vmin=-1, vmax=2)
    assert fixed.images[0].get_clim() == (-1, 2)
    np.testing.assert_array_equal(fixed.images[0].get_array(), [[-0.5, 0.2]])


def test_heatmap_skips_tick_labels_for_long_passages():
    text = "x" * 81
    ax = plot_heatmap(np.zeros((3, 81)) + 0.5, col_labels=text, row_labels=["u0", "u1", "u2"])
    assert "x" not in xticklabels(ax)
    assert yticklabels(ax) == ["u0", "u1", "u2"]


def test_heatmap_on_given_axes():
    fig, ax = plt.subplots()
    assert plot_heatmap([[1.0, -1.0]], ax=ax) is ax
    assert len(ax.images) == 1


@pytest.mark.parametrize("values, match", [
    (np.arange(5.0), r"plot_heatmap: `values` must be a non-empty 2-D array .*got shape \(5,\)"),
    (np.zeros((2, 2, 2)), r"`values` must be a non-empty 2-D array .*\(2, 2, 2\)"),
    (np.zeros((0, 3)), r"`values` must be a non-empty 2-D array .*\(0, 3\)"),
    (np.array([[1.0, np.inf]]), r"`values` must be finite, got inf at index \[0, 1\]"),
])
def test_heatmap_rejects_bad_values(values, match):
    with pytest.raises(ValueError, match=match):
        plot_heatmap(values)


def test_heatmap_rejects_bad_arguments():
    values = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"`col_labels` must have one label per entry \(3\), got 2"):
        plot_heatmap(values, col_labels="ab")
    with pytest.raises(ValueError, match=r"`row_labels` must have one label per entry \(2\), got 3"):
        plot_heatmap(values, row_labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"`vmin` must be smaller than `vmax`, got 1 and 0"):
        plot_heatmap(values, vmin=1, vmax=0)
    with pytest.raises(TypeError, match=r"`vmax` must be a finite number or None, got str"):
        plot_heatmap(values, vmax="1")
    with pytest.raises(TypeError, match=r"plot_heatmap: `ax` must be a matplotlib Axes .*ndarray"):
        plot_heatmap(values, ax=values)
