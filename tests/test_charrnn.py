"""helpers.charrnn (reading with a given step function, test parameters) and
helpers.pretrained.load_trained_char_rnn (the student's model, else the kit's)."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.charrnn import make_test_params, read
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
