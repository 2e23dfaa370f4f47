"""helpers.widgets: the temperature explorer, driven headlessly with real ipywidgets (no kernel)."""
from __future__ import annotations

import base64
import re

import ipywidgets
import numpy as np
import pytest

from helpers.widgets import DEFAULT_SAMPLERS, TemperatureExplorer, temperature_explorer

LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 0.0])
LABELS = "abcde"


def softmax_at(temperature):
    z = np.exp((LOGITS - LOGITS.max()) / temperature)
    return z / z.sum()


class Recorder:
    """next_distribution and generate callbacks that remember how they were called."""

    def __init__(self):
        self.calls = []

    def next_distribution(self, temperature, sampler):
        self.calls.append(("distribution", temperature, sampler))
        if sampler == "argmax":
            return np.eye(LOGITS.size)[int(np.argmax(LOGITS))]
        return softmax_at(temperature).reshape(-1, 1)  # a column, as softmax returns it

    def generate(self, temperature, sampler):
        self.calls.append(("generate", temperature, sampler))
        return f"{sampler} at T={temperature:.4f}"


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def explorer(recorder):
    return temperature_explorer(recorder.next_distribution, recorder.generate, labels=LABELS,
                                samplers=["softmax", "Gumbel-max", "argmax"], title="toy")


def png_of(explorer) -> bytes:
    (output,) = explorer.plot_output.outputs
    assert output["output_type"] == "display_data"
    png = base64.b64decode(output["data"]["image/png"])
    assert png.startswith(b"\x89PNG")
    return png


def sample_text_of(explorer) -> str:
    (output,) = explorer.sample_output.outputs
    assert output["output_type"] == "stream"
    return output["text"]


def bar_heights(explorer) -> np.ndarray:
    (ax,) = explorer.figure.axes
    return np.array([patch.get_height() for patch in ax.patches])


def test_widgets_are_real_ipywidgets(explorer):
    assert isinstance(explorer, TemperatureExplorer) and isinstance(explorer, ipywidgets.VBox)
    assert isinstance(explorer.slider, ipywidgets.FloatLogSlider)
    assert explorer.slider.base == 10
    assert explorer.slider.min == pytest.approx(-1.0) and explorer.slider.max == pytest.approx(1.0)
    assert isinstance(explorer.sampler, ipywidgets.Dropdown)
    assert list(explorer.sampler.options) == ["softmax", "Gumbel-max", "argmax"]
    assert isinstance(explorer.plot_output, ipywidgets.Output)
    assert isinstance(explorer.sample_output, ipywidgets.Output)
    assert isinstance(explorer.resample, ipywidgets.Button)
    # every widget is shown
    shown, stack = set(), [explorer]
    while stack:
        widget = stack.pop()
        shown.add(widget.model_id)
        stack.extend(getattr(widget, "children", ()))
    for widget in (explorer.slider, explorer.sampler, explorer.resample, explorer.plot_output,
                   explorer.sample_output, explorer.info):
        assert widget.model_id in shown


def test_first_draw_at_the_initial_temperature(explorer, recorder):
    assert explorer.temperature == pytest.approx(1.0)
    assert recorder.calls == [("distribution", 1.0, "softmax"), ("generate", 1.0, "softmax")]
    assert explorer.last_probs.shape == (5,)
    assert np.allclose(explorer.last_probs, softmax_at(1.0))
    assert np.allclose(bar_heights(explorer), softmax_at(1.0))
    assert explorer.last_sample == "softmax at T=1.0000" == sample_text_of(explorer)
    assert "toy" in explorer.figure.axes[0].get_title() and "T = 1" in explorer.figure.axes[0].get_title()
    assert "entropy" in explorer.info.value
    assert explorer.draws == 1 and explorer.last_error is None


def test_moving_the_slider_redraws_the_chart_and_the_sample(explorer, recorder):
    before_png, before_probs = png_of(explorer), explorer.last_probs
    explorer.slider.value = 5.0
    assert explorer.draws == 2
    assert recorder.calls[-2:] == [("distribution", 5.0, "softmax"), ("generate", 5.0, "softmax")]
    assert np.allclose(explorer.last_probs, softmax_at(5.0))
    assert not np.allclose(explorer.last_probs, before_probs)
    assert np.allclose(bar_heights(explorer), softmax_at(5.0))
    assert png_of(explorer) != before_png
    assert sample_text_of(explorer) == explorer.last_sample == "softmax at T=5.0000"
    assert "T = 5" in explorer.figure.axes[0].get_title()
    # a hotter distribution is flatter: its entropy, shown in the info line, is larger
    entropy = float(explorer.info.value.split()[1])
    assert entropy == pytest.approx(-(softmax_at(5.0) * np.log(softmax_at(5.0))).sum(), abs=1e-3)
    explorer.slider.value = 0.1
    assert explorer.last_probs[0] > 0.99


def test_the_slider_is_logarithmic_and_clamped(explorer):
    explorer.slider.value = 100.0  # beyond the range: the widget clamps it
    assert explorer.temperature == pytest.approx(10.0)
    assert np.allclose(explorer.last_probs, softmax_at(10.0))


def test_switching_the_sampler(explorer, recorder):
    explorer.sampler.value = "argmax"
    assert recorder.calls[-2:] == [("distribution", 1.0, "argmax"), ("generate", 1.0, "argmax")]
    assert np.allclose(explorer.last_probs, np.eye(5)[0])
    assert explorer.last_sample == "argmax at T=1.0000"
    assert "argmax" in explorer.figure.axes[0].get_title()
    explorer.slider.value = 2.0  # the new temperature goes with the chosen sampler
    assert recorder.calls[-1] == ("generate", 2.0, "argmax")


def test_new_sample_button_draws_again(explorer, recorder):
    explorer.resample.click()
    assert explorer.draws == 2
    assert recorder.calls[-2:] == [("distribution", 1.0, "softmax"), ("generate", 1.0, "softmax")]


def test_defaults():
    explorer = temperature_explorer(lambda t, s: softmax_at(t), lambda t, s: "x")
    assert list(explorer.sampler.options) == list(DEFAULT_SAMPLERS)
    assert explorer.slider.min == pytest.approx(-1.0) and explorer.slider.max == pytest.approx(1.0)
    labels = [t.get_text() for t in explorer.figure.axes[0].get_xticklabels()]
    assert labels == ["0", "1", "2", "3", "4"]


def test_top_k_shows_the_most_probable(recorder):
    explorer = temperature_explorer(recorder.next_distribution, recorder.generate, labels=LABELS, top_k=2)
    assert np.allclose(bar_heights(explorer), np.sort(softmax_at(1.0))[::-1][:2])
    assert len(explorer.last_probs) == 5


def test_unnormalised_frequencies_are_normalised():
    explorer = temperature_explorer(lambda t, s: [3, 1, 0, 0], lambda t, s: "x")
    assert np.allclose(explorer.last_probs, [0.75, 0.25, 0, 0])


def test_errors_during_interaction_are_shown_not_raised(recorder):
    def fragile(temperature, sampler):
        if temperature > 3:
            raise ValueError("too hot for this model")
        return softmax_at(temperature)

    explorer = temperature_explorer(fragile, recorder.generate)
    explorer.slider.value = 5.0  # must not raise into the widget machinery
    assert isinstance(explorer.last_error, ValueError)
    assert "too hot for this model" in explorer.info.value and "ValueError" in explorer.info.value
    assert explorer.draws == 1
    explorer.slider.value = 2.0  # recovers
    assert explorer.last_error is None and explorer.draws == 2


@pytest.mark.parametrize("kwargs,exc,arg", [
    ({"next_distribution": "not a function"}, TypeError, "next_distribution"),
    ({"generate": None}, TypeError, "generate"),
    ({"temperatures": (1.0,)}, ValueError, "temperatures"),
    ({"temperatures": "0.1-10"}, ValueError, "temperatures"),
    ({"temperatures": (10.0, 0.1)}, ValueError, "temperatures"),
    ({"temperatures": (0.0, 10.0)}, ValueError, "temperatures[0]"),
    ({"temperatures": (0.1, float("inf"))}, ValueError, "temperatures[1]"),
    ({"samplers": "Gumbel-max"}, TypeError, "samplers"),
    ({"samplers": []}, ValueError, "samplers"),
    ({"samplers": ["a", "a"]}, ValueError, "samplers"),
    ({"samplers": ["a", 3]}, TypeError, "samplers"),
    ({"initial": 20.0}, ValueError, "initial"),
    ({"initial": -1.0}, ValueError, "initial"),
    ({"initial": True}, ValueError, "initial"),
    ({"labels": 5}, TypeError, "labels"),
    ({"labels": "abc"}, ValueError, "labels"),  # 3 labels for 5 probabilities
    ({"title": 3}, TypeError, "title"),
    ({"top_k": 0}, ValueError, "top_k"),
])
def test_bad_arguments_name_the_argument(kwargs, exc, arg):
    args = {"next_distribution": lambda t, s: softmax_at(t), "generate": lambda t, s: "x", **kwargs}
    with pytest.raises(exc, match=re.escape(f"`{arg}`")):
        temperature_explorer(args.pop("next_distribution"), args.pop("generate"), **args)


@pytest.mark.parametrize("returned,exc,what", [
    (np.ones((2, 3)), ValueError, "shape"),
    (np.array([]), ValueError, "shape"),
    (np.array([0.5, -0.1, 0.6]), ValueError, "negative"),
    (np.array([0.5, np.nan, 0.5]), ValueError, "nan"),
    (np.zeros(3), ValueError, "all zero"),
    ("abc", TypeError, "probabilities"),
])
def test_bad_distributions_name_the_callback(returned, exc, what):
    with pytest.raises(exc, match=rf"`next_distribution`.*{what}"):
        temperature_explorer(lambda t, s: returned, lambda t, s: "x")


def test_generate_must_return_text():
    with pytest.raises(TypeError, match=r"`generate` must return a str"):
        temperature_explorer(lambda t, s: softmax_at(t), lambda t, s: [1, 2, 3])


def test_torch_probabilities_are_accepted():
    torch = pytest.importorskip("torch")
    explorer = temperature_explorer(lambda t, s: torch.softmax(torch.tensor(LOGITS) / t, 0), lambda t, s: "x")
    assert np.allclose(explorer.last_probs, softmax_at(1.0))
