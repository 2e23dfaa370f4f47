"""Saving and loading char-RNN weights."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.data import CharVocab
from helpers.pretrained import load_char_rnn, param_shapes, save_char_rnn


def _params(V=5, H=3, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s) for k, s in param_shapes(V, H).items()}


def test_round_trip_is_exact(tmp_path):
    params, chars = _params(), ["\n", " ", "a", "b", ":"]
    path = save_char_rnn(tmp_path / "sub" / "w.npz", params, CharVocab(chars), meta={"steps": 10})
    loaded, vocab, meta = load_char_rnn(path, with_meta=True)
    assert vocab.chars == chars and meta == {"steps": 10}
    for k, v in params.items():
        assert loaded[k].dtype == np.float64 and (loaded[k] == v).all()
    assert [p.name for p in path.parent.iterdir()] == ["w.npz"], "a temporary file was left behind"


def test_bad_params_name_the_parameter(tmp_path):
    params = _params()
    params["Why"] = params["Why"].T
    with pytest.raises(ValueError, match=r"params\['Why'\]. must have shape \(5, 3\).*got \(3, 5\)"):
        save_char_rnn(tmp_path / "w.npz", params, "ab:cd")
    with pytest.raises(ValueError, match=r"lacks \['by'\]"):
        save_char_rnn(tmp_path / "w.npz", {k: v for k, v in _params().items() if k != "by"}, "ab:cd")
    diverged = _params()
    diverged["Whh"][0, 0] = np.nan
    with pytest.raises(ValueError, match="nan or inf"):
        save_char_rnn(tmp_path / "w.npz", diverged, "ab:cd")
    with pytest.raises(TypeError, match="`chars` is not a vocabulary"):
        save_char_rnn(tmp_path / "w.npz", _params(), ["a", "bb", "c", "d", "e"])
    assert not (tmp_path / "w.npz").exists()


def test_missing_or_foreign_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="assignment 2"):
        load_char_rnn(tmp_path / "nothing.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a weights file"):
        load_char_rnn(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", W=np.zeros(3))
    with pytest.raises(ValueError, match=r"lacks \['Wxh'"):
        load_char_rnn(tmp_path / "other.npz")
