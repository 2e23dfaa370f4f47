"""Plotting helpers for the notebooks: distributions, loss curves and heatmaps.

Every function draws on the matplotlib Axes ``ax`` you pass, or on a new
figure when ``ax`` is None, and returns that Axes so you can add to it::

    ax = plot_distribution(p[:, 0], vocab.chars, top_k=10, highlight="e")
    ax.set_title("after 'th'")

None of them calls ``plt.show()``: Jupyter shows the figure at the end of the
cell (and tests run them with the non-interactive Agg backend).

Characters used as labels are shown readably: a space as ``␣``, a newline as
``\\n``, a tab as ``\\t``, other invisible characters as escapes.
"""
from __future__ import annotations

import numbers

import numpy as np
from matplotlib.axes import Axes

from helpers.values import describe, is_tensor, tensor_to_numpy

__all__ = [
    "plot_distribution",
    "plot_losses",
    "plot_heatmap",
]

_MAX_BAR_LABELS = 100     # more bars than this: no tick labels
_MAX_HEATMAP_LABELS = 80  # more rows / columns than this: no tick labels
_BAR_COLOUR, _HIGHLIGHT_COLOUR = "tab:blue", "tab:orange"
_SPECIAL = {" ": "␣", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------
def _readable(label) -> str:
    """A label as tick text: ``' '`` -> ``'␣'``, ``'\\n'`` -> ``'\\\\n'``, ints as digits."""
    if not isinstance(label, str):
        return str(label)
    if label == "":
        return "''"
    return "".join(_SPECIAL.get(ch) or (ch if ch.isprintable()
                                        else ch.encode("unicode_escape").decode("ascii"))
                   for ch in label)


def _as_real_array(func, arg, value) -> np.ndarray:
    """``value`` (array-like or torch tensor) as a float64 array, or TypeError."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{func}: `{arg}` must be an array of numbers, got {describe(value)}")
    arr = tensor_to_numpy(value) if is_tensor(value) else value
    try:
        arr = np.asarray(arr)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{func}: `{arg}` must be an array of real numbers, got {describe(value)}")
    return arr.astype(np.float64)


def _check_finite(func, arg, arr) -> None:
    if not np.isfinite(arr).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{func}: `{arg}` must be finite, got {arr[index]} at index "
                         f"{list(index)}")


def _check_labels(func, arg, labels, n) -> list | None:
    """``labels`` (None, or a sequence of n str/ints; a str is a sequence of chars)."""
    if labels is None:
        return None
    if (is_tensor(labels) or isinstance(labels, (dict, set, bytes))
            or not hasattr(labels, "__len__")):
        raise TypeError(f"{func}: `{arg}` must be a sequence of {n} strings (e.g. vocab.chars) "
                        f"or None, got {describe(labels)}")
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(f"{func}: `{arg}` must have one label per entry ({n}), got "
                         f"{len(labels)} labels")
    for i, label in enumerate(labels):
        if isinstance(label, bool) or not isinstance(label, (str, numbers.Integral)):
            raise TypeError(f"{func}: `{arg}[{i}]` must be a str (or int), got {describe(label)}")
    return labels


def _check_ax(func, ax) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"{func}: `ax` must be a matplotlib Axes (e.g. from plt.subplots()) "
                        f"or None, got {describe(ax)}")


def _check_text(func, arg, value) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{func}: `{arg}` must be a str or None, got {describe(value)}")


def _new_axes(width, height) -> Axes:
    import matplotlib.pyplot as plt  # here, so that importing this module picks no backend

    return plt.subplots(figsize=(width, height), layout="constrained")[1]


# --------------------------------------------------------------------------
# plot_distribution
# --------------------------------------------------------------------------
def _highlighted(highlight, labels, n) -> set:
    """Indices (into the full distribution) named by ``highlight``."""
    if highlight is None:
        return set()
    items = list(highlight) if isinstance(highlight, (list, tuple, set)) else [highlight]
    indices = set()
    for item in items:
        if isinstance(item, str):
            if labels is None or item not in labels:
                known = "there are no labels" if labels is None else "it is not one of the labels"
                raise ValueError(f"plot_distribution: `highlight` names {item!r} but {known}")
            indices.add(labels.index(item))
        elif isinstance(item, numbers.Integral) and not isinstance(item, bool):
            if not 0 <= item < n:
                raise ValueError(f"plot_distribution: `highlight` index must be in [0, {n - 1}], "
                                 f"got {item}")
            indices.add(int(item))
        else:
            raise TypeError(f"plot_distribution: `highlight` must be a label, an index or a "
                            f"list of them, got {describe(item)}")
    return indices


def plot_distribution(probs, labels=None, *, title=None, top_k=None, ax=None, highlight=None):
    """Bar chart of a categorical distribution, e.g. the next-character probabilities.

    Inputs:
    - probs: V non-negative finite numbers, shape (V,), or a single column
      (V, 1) or row (1, V) as softmax returns it (numpy array, list or torch
      tensor). They need not sum to 1.
    - labels: sequence of V labels (e.g. ``vocab.chars``; a str counts as its
      characters), or None to label the bars 0 .. V-1.
    - title: str or None. When None and ``top_k`` hides some bars, the title
      says how many are shown.
    - top_k: int >= 1 or None; show only the k most probable entries, sorted
      from most to least probable (k larger than V shows all V).
    - ax: matplotlib Axes or None (new figure).
    - highlight: a label, an index into probs, or a list of them; those bars
      are drawn in another colour.

    Returns:
    - ax: the Axes with one bar per shown entry (``ax.patches``).
    """
    func = "plot_distribution"
    arr = _as_real_array(func, "probs", probs)
    if not (arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape)) or arr.size == 0:
        raise ValueError(f"{func}: `probs` must have shape (V,) or (V, 1) with V >= 1, "
                         f"got shape {arr.shape}")
    arr = arr.ravel()
    _check_finite(func, "probs", arr)
    if (arr < 0).any():
        first = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{func}: `probs` must be non-negative, got {arr[first]:g} at index "
                         f"{first}")
    n = arr.size
    labels = _check_labels(func, "labels", labels, n)
    _check_text(func, "title", title)
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral)
                              or top_k < 1):
        raise ValueError(f"{func}: `top_k` must be an int >= 1 or None, got {describe(top_k)}")
    _check_ax(func, ax)
    marked = _highlighted(highlight, labels, n)

    if top_k is None:
        order = np.arange(n)
    else:
        order = np.argsort(-arr, kind="stable")[:int(top_k)]
    shown = len(order)
    if ax is None:
        ax = _new_axes(min(max(4.0, 0.16 * shown + 1.5), 16.0), 3.5)
    x = np.arange(shown)
    colours = [_HIGHLIGHT_COLOUR if i in marked else _BAR_COLOUR for i in order]
    ax.bar(x, arr[order], color=colours)
    if shown <= _MAX_BAR_LABELS:
        names = [str(i) for i in order] if labels is None else [_readable(labels[i]) for i in order]
        ax.set_xticks(x, names, fontsize=10 if shown <= 40 else 7)
    ax.set_xlim(-0.6, shown - 0.4)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("category" if labels is None else "next character")
    ax.set_ylabel("probability")
    if title is None and shown < n:
        title = f"{shown} most probable of {n}"
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------
# plot_losses
# --------------------------------------------------------------------------
def _as_curve(func, arg, values) -> np.ndarray:
    arr = _as_real_array(func, arg, values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{func}: `{arg}` must be a non-empty 1-D sequence (one value per "
                         f"step), got shape {arr.shape}")
    _check_finite(func, arg, arr)
    return arr


def plot_losses(losses, *, smoothed=None, ax=None, title="Training loss", ylabel="loss (nats)",
                xlabel="step", logy=False):
    """Loss curve: the raw losses (thin, light) and optionally a smoothed curve (bold).

    Inputs:
    - losses: N finite losses, shape (N,) (list, numpy array or torch tensor),
      or a :class:`helpers.training.TrainHistory` (its ``losses``).
    - smoothed: shape (N,) or None, e.g. ``smooth_losses(losses)``; for a
      TrainHistory None means ``history.smoothed()``.
    - ax: matplotlib Axes or None (new figure).
    - title, ylabel, xlabel: str or None.
    - logy: bool, logarithmic y axis (the losses must then be positive).

    Returns:
    - ax: the Axes; ``ax.lines[0]`` is the raw curve (x = 0 .. N-1) and
      ``ax.lines[1]`` the smoothed one when there is one.
    """
    from helpers.training import TrainHistory  # helpers.training imports tqdm lazily only

    func = "plot_losses"
    if isinstance(losses, TrainHistory):
        if not losses.losses:
            raise ValueError(f"{func}: `losses` is a TrainHistory with no steps: nothing to plot")
        if smoothed is None:
            smoothed = losses.smoothed()
        losses = losses.losses
    raw = _as_curve(func, "losses", losses)
    smooth = None if smoothed is None else _as_curve(func, "smoothed", smoothed)
    if smooth is not None and smooth.shape != raw.shape:
        raise ValueError(f"{func}: `smoothed` must have one value per loss, shape {raw.shape}, "
                         f"got shape {smooth.shape}")
    for arg, value in (("title", title), ("ylabel", ylabel), ("xlabel", xlabel)):
        _check_text(func, arg, value)
    if not isinstance(logy, (bool, np.bool_)):
        raise TypeError(f"{func}: `logy` must be True or False, got {describe(logy)}")
    if logy and (raw <= 0).any():
        raise ValueError(f"{func}: `logy=True` needs positive losses, got {raw.min():g}")
    _check_ax(func, ax)

    if ax is None:
        ax = _new_axes(7.0, 4.0)
    steps = np.arange(raw.size)
    ax.plot(steps, raw, color="tab:blue", alpha=0.35 if smooth is not None else 1.0,
            linewidth=1.0, label="loss")
    if smooth is not None:
        ax.plot(steps, smooth, color="tab:blue", linewidth=2.2, label="smoothed")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    if title is not None:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------
# plot_heatmap
# --------------------------------------------------------------------------
def plot_heatmap(values, *, row_labels=None, col_labels=None, title=None, ax=None, cmap="RdBu_r",
                 vmin=None, vmax=None, colorbar_label=None):
    """Heatmap of a matrix, e.g. hidden activations (rows: units, columns: characters).

    Inputs:
    - values: finite numbers of shape (R, C) (numpy array, nested list or
      torch tensor).
    - row_labels, col_labels: sequences of R / C labels (str or int; a str
      counts as its characters, so a passage of text can label the columns),
      or None for indices. Tick labels are left out when there are more than
      80 rows / columns.
    - title, colorbar_label: str or None.
    - ax: matplotlib Axes or None (new figure).
    - cmap: matplotlib colormap (name or object); the default is a diverging
      map with white at 0.
    - vmin, vmax: colour limits. By default, when the values have both signs,
      the limits are symmetric, ``±max|values|``, so 0 is white; otherwise
      they are the data range.

    Returns:
    - ax: the Axes; ``ax.images[0]`` is the image (``get_array()`` holds the
      values, ``get_clim()`` the limits) and it has a colorbar.
    """
    func = "plot_heatmap"
    arr = _as_real_array(func, "values", values)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{func}: `values` must be a non-empty 2-D array (rows, columns), "
                         f"got shape {arr.shape}")
    _check_finite(func, "values", arr)
    rows, cols = arr.shape
    row_labels = _check_labels(func, "row_labels", row_labels, rows)
    col_labels = _check_labels(func, "col_labels", col_labels, cols)
    for arg, value in (("title", title), ("colorbar_label", colorbar_label)):
        _check_text(func, arg, value)
    for arg, value in (("vmin", vmin), ("vmax", vmax)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                  or not np.isfinite(value)):
            raise TypeError(f"{func}: `{arg}` must be a finite number or None, "
                            f"got {describe(value)}")
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"{func}: `vmin` must be smaller than `vmax`, got {vmin} and {vmax}")
    _check_ax(func, ax)

    low, high = float(arr.min()), float(arr.max())
    if vmin is None and vmax is None and low < 0 < high:
        vmax = max(-low, high)
        vmin = -vmax
    if ax is None:
        ax = _new_axes(min(max(4.0, 0.22 * cols + 2.5), 16.0),
                       min(max(2.5, 0.22 * rows + 1.5), 10.0))
    image = ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                      interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label=colorbar_label or "")
    for labels, count, set_ticks in ((row_labels, rows, ax.set_yticks),
                                     (col_labels, cols, ax.set_xticks)):
        if labels is not None and count <= _MAX_HEATMAP_LABELS:
            set_ticks(np.arange(count), [_readable(label) for label in labels],
                      fontsize=9 if count <= 40 else 7)
    if title is not None:
        ax.set_title(title)
    return ax
