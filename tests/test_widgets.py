"""helpers.widgets: the temperature explorer (assignment 3) and the temperature and top-k sliders
(assignment 6), driven headlessly with real ipywidgets (no kernel)."""
from __future__ import annotations

import base64
import re

import ipywidgets
import numpy as np
import pytest

from helpers import COURSE_ROOT
from helpers.widgets import (DEFAULT_SAMPLERS, GenerationSliders, TemperatureExplorer, generation_sliders,
                             temperature_explorer)

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


def test_the_explorer_slider_waits_for_the_release(explorer, recorder):
    # The browser sends the value once the handle is let go: what the front end receives says so.
    assert explorer.slider.continuous_update is False
    assert explorer.slider.get_state()["continuous_update"] is False


# ---------------------------------------------------------------- temperature and top-k sliders
class PoemRecorder:
    """A generate(temperature, top_k) callback that remembers its calls."""

    def __init__(self):
        self.calls = []

    def generate(self, temperature, top_k):
        self.calls.append((temperature, top_k))
        return f"poem at T={temperature:.4f}, k={top_k}"


@pytest.fixture
def poems():
    return PoemRecorder()


@pytest.fixture
def sliders(poems):
    return generation_sliders(poems.generate)


def test_generation_sliders_are_real_ipywidgets(sliders):
    assert isinstance(sliders, GenerationSliders) and isinstance(sliders, ipywidgets.VBox)
    assert isinstance(sliders.temperature_slider, ipywidgets.FloatLogSlider)
    assert sliders.temperature_slider.base == 10
    assert sliders.temperature_slider.min == pytest.approx(-1.0) and sliders.temperature_slider.max == pytest.approx(1.0)
    assert isinstance(sliders.k_slider, ipywidgets.IntSlider)
    assert (sliders.k_slider.min, sliders.k_slider.max) == (1, 200)
    shown, stack = set(), [sliders]
    while stack:
        widget = stack.pop()
        shown.add(widget.model_id)
        stack.extend(getattr(widget, "children", ()))
    for widget in (sliders.temperature_slider, sliders.k_slider, sliders.info, sliders.text_output):
        assert widget.model_id in shown


def test_both_generation_sliders_wait_for_the_release(sliders):
    # Dragging must not regenerate the poems at every value the handle passes: the front end
    # sends the value only on release when continuous_update is False in the state it receives.
    for slider in (sliders.temperature_slider, sliders.k_slider):
        assert slider.continuous_update is False
        assert slider.get_state()["continuous_update"] is False


def test_first_text_at_the_initial_settings(sliders, poems):
    assert poems.calls == [(1.0, 10)]
    assert sliders.temperature == pytest.approx(1.0) and sliders.top_k == 10
    assert sliders.last_text == "poem at T=1.0000, k=10"
    (output,) = sliders.text_output.outputs
    assert output["output_type"] == "stream" and output["text"] == sliders.last_text
    assert "T = 1" in sliders.info.value and "k = 10" in sliders.info.value
    assert sliders.draws == 1 and sliders.last_error is None


def test_one_text_per_released_value(sliders, poems):
    # Each value the browser sends (one per release) regenerates once, with the other slider's value.
    sliders.temperature_slider.value = 2.0
    assert poems.calls[1:] == [(2.0, 10)]
    sliders.k_slider.value = 3
    assert poems.calls[1:] == [(2.0, 10), (2.0, 3)]
    assert sliders.last_text == "poem at T=2.0000, k=3" == sliders.text_output.outputs[0]["text"]
    assert "T = 2" in sliders.info.value and "k = 3" in sliders.info.value
    assert sliders.draws == 3


def test_generation_sliders_clamp_to_their_ranges(sliders):
    sliders.temperature_slider.value = 100.0
    sliders.k_slider.value = 1000
    assert sliders.temperature == pytest.approx(10.0) and sliders.top_k == 200
    assert sliders.last_text == "poem at T=10.0000, k=200"


def test_generation_sliders_with_other_ranges(poems):
    sliders = generation_sliders(poems.generate, temperatures=(0.5, 2.0), initial_temperature=0.5,
                                 top_k=(2, 50), initial_k=50)
    assert poems.calls == [(0.5, 50)]
    assert sliders.temperature_slider.min == pytest.approx(np.log10(0.5))
    assert (sliders.k_slider.min, sliders.k_slider.max, sliders.k_slider.value) == (2, 50, 50)


def test_generation_errors_during_interaction_are_shown_not_raised(poems):
    def fragile(temperature, top_k):
        if top_k > 100:
            raise ValueError("k larger than the vocabulary")
        return poems.generate(temperature, top_k)

    sliders = generation_sliders(fragile)
    sliders.k_slider.value = 150  # must not raise into the widget machinery
    assert isinstance(sliders.last_error, ValueError)
    assert "k larger than the vocabulary" in sliders.info.value and "ValueError" in sliders.info.value
    assert sliders.draws == 1 and sliders.last_text == "poem at T=1.0000, k=10"
    sliders.k_slider.value = 20  # recovers
    assert sliders.last_error is None and sliders.draws == 2


def test_the_first_generation_error_is_raised():
    with pytest.raises(ZeroDivisionError):
        generation_sliders(lambda t, k: str(1 / 0))
    with pytest.raises(TypeError, match=r"`generate` must return a str"):
        generation_sliders(lambda t, k: ["not", "text"])


@pytest.mark.parametrize("kwargs,exc,arg", [
    ({"generate": "not a function"}, TypeError, "generate"),
    ({"temperatures": (1.0,)}, ValueError, "temperatures"),
    ({"temperatures": "0.1-10"}, ValueError, "temperatures"),
    ({"temperatures": (10.0, 0.1)}, ValueError, "temperatures"),
    ({"temperatures": (0.0, 10.0)}, ValueError, "temperatures[0]"),
    ({"temperatures": (0.1, float("nan"))}, ValueError, "temperatures[1]"),
    ({"initial_temperature": 20.0}, ValueError, "initial_temperature"),
    ({"initial_temperature": True}, ValueError, "initial_temperature"),
    ({"top_k": (5,)}, ValueError, "top_k"),
    ({"top_k": (0, 10)}, ValueError, "top_k[0]"),
    ({"top_k": (1, 2.5)}, ValueError, "top_k[1]"),
    ({"top_k": (10, 10)}, ValueError, "top_k"),
    ({"initial_k": 300}, ValueError, "initial_k"),
    ({"initial_k": 2.0}, ValueError, "initial_k"),
])
def test_bad_slider_arguments_name_the_argument(kwargs, exc, arg):
    args = {"generate": lambda t, k: "x", **kwargs}
    with pytest.raises(exc, match=re.escape(f"`{arg}`")):
        generation_sliders(args.pop("generate"), **args)


def test_assignment_6_takes_its_sliders_from_here():
    """The poems' sliders are generation_sliders' (which wait for the release), not sliders of its own."""
    import nbformat

    code = "\n".join(cell.source for cell in nbformat.read(
        COURSE_ROOT / "solutions" / "a6_tang_poems" / "tang_poems.ipynb", as_version=4).cells
        if cell.cell_type == "code")
    assert "generation_sliders(" in code
    assert "Slider(" not in code, "a6 builds a slider of its own: use helpers.widgets.generation_sliders"
