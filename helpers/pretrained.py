"""Saving and loading trained char-RNN weights (min-char-rnn layout).

Assignment 2 trains a char-RNN and saves it; assignments 3 and 4 load it. So
that they work before assignment 2 is finished, the kit ships weights trained
by the assignment 2 solution during the build step (``python3 kit.py release``):
``helpers/weights/char_rnn_shakespeare.npz``.

File format (``numpy.savez``): arrays ``Wxh (H, V)``, ``Whh (H, H)``,
``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)``, ``chars`` (the vocabulary as a
1-D array of V single-character strings, index order) and ``meta`` (a JSON
string, e.g. the training steps and the smoothed loss).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from helpers import COURSE_ROOT
from helpers.values import describe
from helpers.data import CharVocab

__all__ = ["KIT_WEIGHTS", "OWN_WEIGHTS", "PARAM_NAMES", "save_char_rnn", "load_char_rnn", "load_trained_char_rnn",
           "param_shapes", "kit_weights_target"]

KIT_WEIGHTS = COURSE_ROOT / "helpers" / "weights" / "char_rnn_shakespeare.npz"
#: Where assignment 2 saves the student's own model, seen from the folder of a later notebook.
OWN_WEIGHTS = Path("..") / "a2_rnn_backprop" / "char_rnn_weights.npz"
WEIGHTS_DIR_ENV = "RNN_KIT_BUILD_WEIGHTS_DIR"


def kit_weights_target(name: str = KIT_WEIGHTS.name) -> Path | None:
    """Where a solution notebook saves the kit's weights during the build step, else None.

    ``python3 kit.py release`` runs the solutions with ``RNN_KIT_BUILD_WEIGHTS_DIR``
    set (to a scratch folder, or to ``helpers/weights/`` with ``--weights``);
    students and nbgrader never set it, so their runs never overwrite the kit's weights.
    """
    folder = os.environ.get(WEIGHTS_DIR_ENV)
    return Path(folder) / name if folder else None
PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def param_shapes(vocab_size: int, hidden_size: int) -> dict[str, tuple[int, int]]:
    """The shape of each parameter for a vocabulary of V and a hidden state of H."""
    V, H = vocab_size, hidden_size
    return {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}


def _validate_params(func: str, params, vocab_size: int) -> int:
    """Check names, shapes and dtypes; return H."""
    if not isinstance(params, dict):
        raise TypeError(f"{func}: `params` must be a dict of arrays {PARAM_NAMES}, got {describe(params)}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"{func}: `params` lacks {missing}; it must hold {list(PARAM_NAMES)}")
    for name in PARAM_NAMES:
        value = params[name]
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise TypeError(f"{func}: `params['{name}']` must be a float numpy array, got {describe(value)}")
        if not np.isfinite(value).all():
            raise ValueError(f"{func}: `params['{name}']` holds nan or inf: training diverged, "
                             f"lower the learning rate or clip the gradients")
    hidden = params["Whh"].shape[0] if params["Whh"].ndim == 2 else -1
    for name, shape in param_shapes(vocab_size, hidden).items():
        if params[name].shape != shape:
            raise ValueError(f"{func}: `params['{name}']` must have shape {shape} for V = {vocab_size} "
                             f"and H = {hidden}, got {params[name].shape}")
    return hidden


def save_char_rnn(path, params: dict, chars, *, meta: dict | None = None) -> Path:
    """Write ``params`` and the vocabulary to ``path`` (.npz), atomically.

    Inputs:
    - path: file to write (str or Path); its folder is created.
    - params: dict with Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1).
    - chars: the vocabulary: a CharVocab, a str or a list of V distinct characters.
    - meta: optional JSON-serialisable dict stored with the weights.

    Returns the path written.
    """
    chars = chars.chars if isinstance(chars, CharVocab) else list(chars) if isinstance(chars, str) else chars
    try:
        vocab = CharVocab(chars)
    except (TypeError, ValueError) as err:
        raise type(err)(f"save_char_rnn: `chars` is not a vocabulary: {err}") from None
    _validate_params("save_char_rnn", params, len(vocab))
    try:
        meta_text = json.dumps(meta or {}, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"save_char_rnn: `meta` must be JSON-serialisable, got {describe(meta)} ({err})") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, chars=np.array(vocab.chars), meta=np.array(meta_text),
                     **{k: params[k] for k in PARAM_NAMES})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; weights are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_char_rnn(path=None, *, with_meta: bool = False):
    """Load weights saved by :func:`save_char_rnn`.

    Inputs:
    - path: the .npz file; None loads the kit's weights (``KIT_WEIGHTS``).
    - with_meta: also return the stored meta dict.

    Returns ``(params, vocab)`` (or ``(params, vocab, meta)``): params as float64
    arrays of the min-char-rnn shapes, vocab a :class:`helpers.data.CharVocab`.
    """
    path = Path(KIT_WEIGHTS if path is None else path)
    if not path.is_file():
        what = ("the kit's weights are missing: run `python3 kit.py release` (or restore "
                "helpers/weights/ from git)") if path == KIT_WEIGHTS else \
            "train and save the model in assignment 2 first, or call load_char_rnn() for the kit's weights"
        raise FileNotFoundError(f"load_char_rnn: no weights file {path}: {what}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"load_char_rnn: {path} is not a weights file saved by save_char_rnn ({err})") from None
    missing = [k for k in (*PARAM_NAMES, "chars") if k not in arrays]
    if missing:
        raise ValueError(f"load_char_rnn: {path} lacks {missing}: save it with save_char_rnn")
    vocab = CharVocab([str(c) for c in arrays["chars"].tolist()])
    params = {k: arrays[k].astype(np.float64) for k in PARAM_NAMES}
    _validate_params("load_char_rnn", params, len(vocab))
    if not with_meta:
        return params, vocab
    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    return params, vocab, meta


def load_trained_char_rnn(own=OWN_WEIGHTS, *, text: str | None = None, verbose: bool = True):
    """The student's own trained model if there is a usable one, otherwise the kit's.

    Inputs:
    - own: the weights file assignment 2 saves (default ``../a2_rnn_backprop/char_rnn_weights.npz``,
      relative to the notebook's folder); None skips it
    - text: if given, the own model is used only when its vocabulary holds every character of text
    - verbose: print which model is used, and why the own one is not

    Returns ``(params, vocab)`` as :func:`load_char_rnn`.
    """
    if own is not None and Path(own).is_file():
        try:
            params, vocab = load_char_rnn(own)
            if text is not None:
                vocab.encode(text)
        except (OSError, ValueError, KeyError) as err:
            if verbose:
                print(f"Could not use {own} ({err}); using the kit's model instead.")
        else:
            if verbose:
                print(f"Your own model from assignment 2 ({own}).")
            return params, vocab
    params, vocab = load_char_rnn()
    if verbose:
        print(f"The kit's model (helpers/weights/{KIT_WEIGHTS.name}); train and save your own in "
              f"assignment 2 to use it here.")
    return params, vocab
