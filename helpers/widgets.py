"""Interactive widgets for the notebooks (ipywidgets).

Every slider here waits for the release (``continuous_update=False``): the
browser sends its value once the student lets go, so a redraw that takes a
second (a chart, a generated text) runs once per move, not at every value the
handle passes while dragged.

:func:`temperature_explorer` builds a temperature slider (log scale) and a
choice of sampler that redraw a next-character distribution and regenerate a
sample text, without re-running cells. It knows nothing about models or
sampling: the notebook passes two functions,

- ``next_distribution(temperature, sampler) -> probabilities`` (V numbers),
- ``generate(temperature, sampler) -> str``,

so the student's own code does the work (and no graded answer lives here).

Everything the widget shows is also kept on the returned object, so that it can
be tested without a browser or a kernel: ``last_probs``, ``last_sample``,
``figure``, ``last_error`` and the widgets themselves (``slider``,
``sampler``, ``resample``, ``plot_output``, ``sample_output``, ``info``).

:func:`generation_sliders` builds a temperature slider and a top-k slider that
regenerate a text (assignment 6's poems) through one function the notebook
passes, ``generate(temperature, top_k) -> str``; it keeps ``last_text``,
``last_error``, ``draws`` and its widgets (``temperature_slider``,
``k_slider``, ``text_output``, ``info``).
"""
from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np

from helpers.values import describe

__all__ = ["DEFAULT_SAMPLERS", "GenerationSliders", "TemperatureExplorer", "generation_sliders",
           "temperature_explorer"]

DEFAULT_SAMPLERS = ("softmax + rng.choice", "Gumbel-max")


def _positive_number(func, arg, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not value > 0:
        raise ValueError(f"{func}: `{arg}` must be a positive finite number, got {describe(value)}")
    return float(value)


def _validate(next_distribution, generate, labels, temperatures, samplers, initial, title, top_k):
    func = "temperature_explorer"
    for arg, value, what in (("next_distribution", next_distribution, "(temperature, sampler) -> probabilities"),
                             ("generate", generate, "(temperature, sampler) -> str")):
        if not callable(value):
            raise TypeError(f"{func}: `{arg}` must be a function {what}, got {describe(value)}")
    if isinstance(temperatures, (str, bytes)) or not isinstance(temperatures, Sequence) \
            or len(temperatures) != 2:
        raise ValueError(f"{func}: `temperatures` must be a pair (lowest, highest), "
                         f"e.g. (0.1, 10), got {describe(temperatures)}")
    low = _positive_number(func, "temperatures[0]", temperatures[0])
    high = _positive_number(func, "temperatures[1]", temperatures[1])
    if not low < high:
        raise ValueError(f"{func}: `temperatures` must be (lowest, highest) with lowest < highest, "
                         f"got {tuple(temperatures)}")
    if isinstance(samplers, (str, bytes)) or not isinstance(samplers, Sequence):
        raise TypeError(f"{func}: `samplers` must be a list of sampler names (str), got {describe(samplers)}")
    if not samplers:
        raise ValueError(f"{func}: `samplers` must name at least one sampler, got an empty list")
    for name in samplers:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{func}: `samplers` must hold non-empty str names, got {describe(name)}")
    if len(set(samplers)) != len(samplers):
        raise ValueError(f"{func}: `samplers` holds a name twice: {list(samplers)}")
    initial = _positive_number(func, "initial", initial)
    if not low <= initial <= high:
        raise ValueError(f"{func}: `initial` must lie in `temperatures` [{low:g}, {high:g}], got {initial:g}")
    if labels is not None:
        if isinstance(labels, str):
            labels = list(labels)
        if not isinstance(labels, Sequence) or not all(isinstance(x, (str, numbers.Integral)) for x in labels):
            raise TypeError(f"{func}: `labels` must be None, a str or a list of labels (str or int), "
                            f"got {describe(labels)}")
        labels = list(labels)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{func}: `title` must be a str or None, got {describe(title)}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1):
        raise ValueError(f"{func}: `top_k` must be an int >= 1 or None, got {describe(top_k)}")
    return labels, (low, high), list(samplers), initial


def _as_probabilities(value, labels) -> np.ndarray:
    """What next_distribution returned, as a flat float array (ValueError/TypeError naming it)."""
    where = "temperature_explorer: `next_distribution`"
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where} must return V probabilities, got {describe(value)}") from None
    if not (arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape)) or arr.size == 0:
        raise ValueError(f"{where} must return V probabilities of shape (V,) or (V, 1), got shape {arr.shape}")
    arr = arr.ravel()
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{where} returned negative, nan or inf probabilities")
    if not arr.sum() > 0:
        raise ValueError(f"{where} returned probabilities that are all zero")
    if labels is not None and len(labels) != arr.size:
        raise ValueError(f"temperature_explorer: `labels` has {len(labels)} entries but "
                         f"`next_distribution` returned {arr.size} probabilities")
    return arr


def _entropy(p: np.ndarray) -> float:
    """Entropy in nats of the normalised distribution p."""
    p = p / p.sum()
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _refresh_or_show_error(widget) -> None:
    """widget.refresh(), with an error shown in widget.info (and kept in widget.last_error): an
    interaction must not raise into the widget machinery, where the message ends up in a log nobody reads."""
    try:
        widget.refresh()
    except Exception as err:  # noqa: BLE001 - shown to the user, kept for inspection
        widget.last_error = err
        widget.info.value = (f"<span style='color:#b00'><b>{type(err).__name__}:</b> "
                             f"{html.escape(str(err))}</span>")


class TemperatureExplorer(widgets.VBox):
    """A temperature slider and a sampler choice that redraw a distribution and a sample.

    Widgets: ``slider`` (FloatLogSlider, the temperature), ``sampler``
    (Dropdown), ``resample`` (Button: draw again at the same settings),
    ``plot_output`` (Output holding the bar chart as a PNG),
    ``sample_output`` (Output holding the sample text) and ``info`` (HTML:
    entropy, or the error message when a callback failed).

    State after each redraw: ``last_probs`` (flat array of V probabilities
    as returned, normalised), ``last_sample`` (str), ``figure`` (the
    matplotlib Figure drawn), ``last_error`` (None, or the exception a
    callback raised during an interaction), ``draws`` (number of redraws).
    """

    def __init__(self, next_distribution, generate, *, labels, temperatures, samplers, initial,
                 title, top_k):
        self._next_distribution = next_distribution
        self._generate = generate
        self._labels = labels
        self._title = title
        self._top_k = top_k
        low, high = temperatures
        self.slider = widgets.FloatLogSlider(
            value=initial, base=10, min=math.log10(low), max=math.log10(high), step=0.01,
            description="temperature", continuous_update=False, readout_format=".3g",
            style={"description_width": "initial"}, layout=widgets.Layout(width="420px"))
        self.sampler = widgets.Dropdown(options=list(samplers), value=samplers[0], description="sampler")
        self.resample = widgets.Button(description="new sample", icon="refresh",
                                       tooltip="draw again at the same temperature")
        self.plot_output = widgets.Output()
        self.sample_output = widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="4px"))
        self.info = widgets.HTML()
        self.last_probs = None
        self.last_sample = None
        self.figure = None
        self.last_error = None
        self.draws = 0
        super().__init__([widgets.HBox([self.slider, self.sampler, self.resample]), self.info,
                          self.plot_output, self.sample_output])
        self.refresh()  # errors in the first draw are raised: the notebook cell shows them
        self.slider.observe(self._on_change, names="value")
        self.sampler.observe(self._on_change, names="value")
        self.resample.on_click(self._on_change)

    @property
    def temperature(self) -> float:
        return float(self.slider.value)

    def refresh(self) -> None:
        """Call both functions at the current settings and redraw (raises their errors)."""
        from matplotlib.figure import Figure

        from helpers.plotting import plot_distribution

        temperature, sampler = self.temperature, self.sampler.value
        probs = _as_probabilities(self._next_distribution(temperature, sampler), self._labels)
        text = self._generate(temperature, sampler)
        if not isinstance(text, str):
            raise TypeError(f"temperature_explorer: `generate` must return a str, got {describe(text)}")
        probs = probs / probs.sum()
        figure = Figure(figsize=(min(max(5.0, 0.16 * probs.size + 1.5), 14.0), 3.2), layout="constrained")
        ax = figure.add_subplot()
        heading = f"{sampler}, T = {temperature:.3g}"
        plot_distribution(probs, self._labels, ax=ax, top_k=self._top_k,
                          title=f"{self._title}: {heading}" if self._title else heading)
        png = _png(figure)
        self.plot_output.outputs = ({"output_type": "display_data", "metadata": {},
                                     "data": {"image/png": base64.b64encode(png).decode("ascii"),
                                              "text/plain": f"<bar chart: {heading}>"}},)
        self.sample_output.outputs = ({"output_type": "stream", "name": "stdout", "text": text},)
        entropy, top = _entropy(probs), int(np.argmax(probs))
        top_name = repr(str(self._labels[top])) if self._labels is not None else str(top)
        self.info.value = (f"entropy {entropy:.3f} nats (at most ln V = {math.log(probs.size):.3f}); "
                           f"most probable: {html.escape(top_name)} ({probs[top]:.3f})")
        self.last_probs, self.last_sample, self.figure, self.last_error = probs, text, figure, None
        self.draws += 1

    def _on_change(self, _change=None) -> None:
        _refresh_or_show_error(self)


def temperature_explorer(next_distribution: Callable, generate: Callable, *, labels=None,
                         temperatures=(0.1, 10.0), samplers=DEFAULT_SAMPLERS, initial=1.0,
                         title=None, top_k=None):
    """A temperature slider (log scale) and a sampler choice over a model's next-character distribution.

    Moving the slider, choosing another sampler or pressing "new sample"
    calls the two functions again and redraws: a bar chart of the
    distribution, its entropy, and the sample text.

    Inputs:
    - next_distribution: function (temperature: float, sampler: str) -> V
      non-negative numbers (shape (V,) or (V, 1); normalised before drawing),
      e.g. the softmax of the logits at that temperature, or the frequencies
      of many draws of that sampler.
    - generate: function (temperature: float, sampler: str) -> str, a text
      sampled from the model with that sampler at that temperature.
    - labels: None, a str or V labels for the bars (e.g. ``vocab.chars``).
    - temperatures: (lowest, highest), positive, the range of the slider.
    - samplers: non-empty list of distinct names offered in the dropdown; the
      chosen one is passed to both functions.
    - initial: the starting temperature, inside ``temperatures``.
    - title: optional str in front of the chart's title.
    - top_k: int >= 1 or None: show only the k most probable bars.

    Returns a ``TemperatureExplorer`` (an ``ipywidgets.VBox``): display it (it
    is the last value of the cell). It draws once when created; errors of that
    first draw are raised, later ones are shown in the widget and kept in
    ``last_error``.
    """
    labels, temperatures, samplers, initial = _validate(next_distribution, generate, labels, temperatures,
                                                        samplers, initial, title, top_k)
    return TemperatureExplorer(next_distribution, generate, labels=labels, temperatures=temperatures,
                              samplers=samplers, initial=initial, title=title, top_k=top_k)


# ---------------------------------------------------------------- temperature and top-k sliders
def _int_at_least_one(func, arg, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{func}: `{arg}` must be an int >= 1, got {describe(value)}")
    return int(value)


def _validate_sliders(generate, temperatures, initial_temperature, top_k, initial_k):
    func = "generation_sliders"
    if not callable(generate):
        raise TypeError(f"{func}: `generate` must be a function (temperature, top_k) -> str, got {describe(generate)}")
    ranges = {}
    for arg, value, example in (("temperatures", temperatures, "(0.1, 10)"), ("top_k", top_k, "(1, 200)")):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
            raise ValueError(f"{func}: `{arg}` must be a pair (lowest, highest), e.g. {example}, got {describe(value)}")
    ranges["temperatures"] = tuple(_positive_number(func, f"temperatures[{i}]", temperatures[i]) for i in (0, 1))
    ranges["top_k"] = tuple(_int_at_least_one(func, f"top_k[{i}]", top_k[i]) for i in (0, 1))
    for arg, (low, high) in ranges.items():
        if not low < high:
            raise ValueError(f"{func}: `{arg}` must be (lowest, highest) with lowest < highest, got {(low, high)}")
    initial_temperature = _positive_number(func, "initial_temperature", initial_temperature)
    initial_k = _int_at_least_one(func, "initial_k", initial_k)
    for arg, value, (low, high) in (("initial_temperature", initial_temperature, ranges["temperatures"]),
                                    ("initial_k", initial_k, ranges["top_k"])):
        if not low <= value <= high:
            raise ValueError(f"{func}: `{arg}` must lie in [{low:g}, {high:g}], got {value:g}")
    return ranges["temperatures"], initial_temperature, ranges["top_k"], initial_k


class GenerationSliders(widgets.VBox):
    """A temperature slider (log scale) and a top-k slider that regenerate a text when released.

    Widgets: ``temperature_slider`` (FloatLogSlider), ``k_slider``
    (IntSlider), both with ``continuous_update=False``; ``info`` (HTML: the
    settings of the text shown, or the error of the last interaction);
    ``text_output`` (Output holding the text). State after each redraw:
    ``last_text``, ``last_error`` (None, or the exception ``generate`` raised
    during an interaction) and ``draws`` (number of texts generated).
    """

    def __init__(self, generate, *, temperatures, initial_temperature, top_k, initial_k):
        self._generate = generate
        low, high = temperatures
        self.temperature_slider = widgets.FloatLogSlider(
            value=initial_temperature, base=10, min=math.log10(low), max=math.log10(high), step=0.05,
            description="temperature", continuous_update=False, readout_format=".3g",
            style={"description_width": "initial"}, layout=widgets.Layout(width="420px"))
        self.k_slider = widgets.IntSlider(value=initial_k, min=top_k[0], max=top_k[1], description="top k",
                                          continuous_update=False, layout=widgets.Layout(width="420px"))
        self.info = widgets.HTML()
        self.text_output = widgets.Output(layout=widgets.Layout(border="1px solid #ccc", padding="4px"))
        self.last_text = None
        self.last_error = None
        self.draws = 0
        super().__init__([widgets.HBox([self.temperature_slider, self.k_slider]), self.info, self.text_output])
        self.refresh()  # errors in the first draw are raised: the notebook cell shows them
        self.temperature_slider.observe(self._on_change, names="value")
        self.k_slider.observe(self._on_change, names="value")

    @property
    def temperature(self) -> float:
        return float(self.temperature_slider.value)

    @property
    def top_k(self) -> int:
        return int(self.k_slider.value)

    def refresh(self) -> None:
        """Call ``generate`` at the current settings and show its text (raises its errors)."""
        temperature, top_k = self.temperature, self.top_k
        text = self._generate(temperature, top_k)
        if not isinstance(text, str):
            raise TypeError(f"generation_sliders: `generate` must return a str, got {describe(text)}")
        self.text_output.outputs = ({"output_type": "stream", "name": "stdout", "text": text},)
        self.info.value = f"T = {temperature:.3g}, k = {top_k}"
        self.last_text, self.last_error = text, None
        self.draws += 1

    def _on_change(self, _change=None) -> None:
        _refresh_or_show_error(self)


def generation_sliders(generate: Callable, *, temperatures=(0.1, 10.0), initial_temperature=1.0,
                       top_k=(1, 200), initial_k=10):
    """A temperature slider and a top-k slider over a text generator; the text is redrawn on release.

    Inputs:
    - generate: function (temperature: float, top_k: int) -> str, e.g. poems
      written by the student's own generator with fixed seeds, so that only
      the settings change between two texts.
    - temperatures: (lowest, highest), positive: the range of the log-scale
      temperature slider; initial_temperature inside it.
    - top_k: (lowest, highest) ints >= 1: the range of the k slider;
      initial_k inside it.

    Returns a ``GenerationSliders`` (an ``ipywidgets.VBox``): display it (it
    is the last value of the cell). It generates once when created; errors of
    that first call are raised, later ones are shown in the widget and kept
    in ``last_error``. Both sliders wait for the release (``continuous_update
    = False``): dragging calls ``generate`` once, with the value let go at.
    """
    temperatures, initial_temperature, top_k, initial_k = _validate_sliders(
        generate, temperatures, initial_temperature, top_k, initial_k)
    return GenerationSliders(generate, temperatures=temperatures, initial_temperature=initial_temperature,
                             top_k=top_k, initial_k=initial_k)
