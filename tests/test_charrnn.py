"""helpers.charrnn (reading and generating with a given step function, test parameters) and
helpers.pretrained.load_trained_char_rnn (the student's model, else the kit's)."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.charrnn import generate, make_test_params, read
from helpers.data import CharVocab
from helpers.pretrained import KIT_WEIGHTS, load_char_rnn, load_trained_char_rnn, save_char_rnn


def counting_step(ix, h):
    """A toy model: the state counts the characters read, the logits remember the last one."""
    y = np.zeros((4, 1))
    y[ix, 0] = 1.0
    return h + 1.0, y


def test_make_test_params_layout_and_seed():
    params = make_test_params(vocab_size=6, hidden_size=4, seed=1)
    assert {k: v.shape for k, v in params.items()} == {"Wxh": (4, 6), "Whh": (4, 4), "Why": (6, 4),
                                                        "bh": (4, 1), "by": (6, 1)}
    rng = np.random.default_rng(1)  # drawn in min-char-rnn's order, as the notebooks always did
    for name in ("Wxh", "Whh", "Why", "bh", "by"):
        assert (params[name] == rng.normal(0.0, 0.5, params[name].shape)).all()
    again = make_test_params(6, 4, 1, scale=2.0)
    assert all((again[k] == 4.0 * params[k]).all() for k in params)
    with pytest.raises(ValueError, match="hidden_size"):
        make_test_params(6, 0, 1)
    with pytest.raises(ValueError, match="scale"):
        make_test_params(6, 4, 1, scale=0.0)


def test_read_returns_the_last_state_and_every_output():
    h0 = np.zeros((2, 1))
    h, outputs = read(counting_step, [2, 0, 3], h0)
    assert (h == 3.0).all() and (h0 == 0.0).all()
    assert [int(np.argmax(y)) for y in outputs] == [2, 0, 3]
    with pytest.raises(ValueError, match="empty"):
        read(counting_step, [], h0)
    with pytest.raises(TypeError, match=r"pair \(h, y\)"):
        read(lambda ix, h: h, [1], h0)


def test_generate_feeds_each_draw_back():
    seen = []

    def step(ix, h):
        seen.append(ix)
        return counting_step(ix, h)

    start = np.zeros((4, 1))
    start[1, 0] = 1.0
    # choose: the character after the last one read, so the draws count up from 1 + 1
    drawn = generate(step, np.zeros((2, 1)), start, 5, lambda y: (int(np.argmax(y)) + 1) % 4)
    assert drawn == [2, 3, 0, 1, 2]
    assert seen == [2, 3, 0, 1], "each draw but the last is read back in"
    assert generate(step, np.zeros((2, 1)), start, 0, lambda y: 0) == []
    with pytest.raises(ValueError, match="`n`"):
        generate(step, np.zeros((2, 1)), start, -1, lambda y: 0)


def test_generate_with_a_seeded_sampler_is_reproducible():
    params = make_test_params(5, 3, seed=2)

    def step(ix, h):
        h = np.tanh(params["Wxh"][:, [ix]] + params["Whh"] @ h + params["bh"])
        return h, params["Why"] @ h + params["by"]

    def draws(seed):
        rng = np.random.default_rng(seed)
        h, outputs = read(step, [0, 1, 2], np.zeros((3, 1)))
        return generate(step, h, outputs[-1], 20,
                        lambda y: rng.choice(5, p=np.exp(y.ravel()) / np.exp(y.ravel()).sum()))

    assert draws(7) == draws(7) and draws(7) != draws(8)


def test_load_trained_char_rnn_prefers_a_usable_own_model(tmp_path, capsys):
    kit_params, kit_vocab = load_char_rnn()
    # No file: the kit's model, and a word on how to use one's own.
    params, vocab = load_trained_char_rnn(tmp_path / "none.npz")
    assert vocab.chars == kit_vocab.chars and all((params[k] == kit_params[k]).all() for k in params)
    assert "kit's model" in capsys.readouterr().out
    # A valid own file: that one.
    own = make_test_params(4, 3, seed=0)
    path = save_char_rnn(tmp_path / "own.npz", own, CharVocab(list("ab: ")))
    params, vocab = load_trained_char_rnn(path)
    assert vocab.chars == list("ab: ") and (params["Wxh"] == own["Wxh"]).all()
    assert "Your own model" in capsys.readouterr().out
    # Its vocabulary lacks characters of the text: the kit's, and why.
    params, vocab = load_trained_char_rnn(path, text="abc")
    assert vocab.chars == kit_vocab.chars
    assert "Could not use" in capsys.readouterr().out
    # A damaged file: the kit's, and why.
    (tmp_path / "bad.npz").write_text("not weights")
    params, vocab = load_trained_char_rnn(tmp_path / "bad.npz", verbose=False)
    assert vocab.chars == kit_vocab.chars and capsys.readouterr().out == ""
    assert KIT_WEIGHTS.is_file()
