"""Assignment 1's hidden-test references and comparisons, written once (instructor-only).

The hidden tests import from here inside a function; the release inlines what they import
(helpers/instructor/references.py). Comparisons use torch, never numpy's comparison
functions, which a submission can replace."""
import numpy as np
import torch
from helpers.reference_compare import chi_square_p, close, mismatch

PARAM_NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def generators(*seeds):
    """(seed, numpy Generator) for each seed. Tests use fixed seeds and None, a fresh seed at every
    grading, so that answers hard-coded for known inputs cannot pass."""
    return [(seed, np.random.default_rng(seed)) for seed in seeds]


def param_shapes(V, H):
    """name -> shape: Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1)."""
    return {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}


def random_params(rng, V, H, scale):
    """Parameters with independent normal(0, scale) entries, drawn from rng in PARAM_NAMES order."""
    return {name: rng.normal(0.0, scale, shape) for name, shape in param_shapes(V, H).items()}


def random_one_hot(rng, V):
    """A one-hot column (V, 1) at an index drawn from rng."""
    column = np.zeros((V, 1))
    column[rng.integers(V), 0] = 1.0
    return column


def tensors(params):
    """The parameters as float64 tensors, same names and shapes."""
    return {name: torch.as_tensor(value, dtype=torch.float64) for name, value in params.items()}


def step_forward(x, h_prev, params):
    """Reference RNN step in torch: (h (H, 1), y (V, 1), p (V, 1)) for x (V, 1) and h_prev (H, 1)."""
    P = tensors(params)
    x, h_prev = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(h_prev, dtype=torch.float64)
    h = torch.tanh(P["Wxh"] @ x + P["Whh"] @ h_prev + P["bh"])
    y = P["Why"] @ h + P["by"]
    return h, y, torch.softmax(y, dim=0)


def forward(inputs, targets, h_prev, params):
    """Reference forward pass in torch: (summed cross-entropy: float, [h_t (H, 1)], [p_t (V, 1)]) over the T steps."""
    W = tensors(params)
    h, hs, logits = torch.as_tensor(h_prev, dtype=torch.float64), [], []
    for ix in inputs:
        h = torch.tanh(W["Wxh"][:, [ix]] + W["Whh"] @ h + W["bh"])
        hs.append(h)
        logits.append(W["Why"] @ h + W["by"])
    loss = torch.nn.functional.cross_entropy(torch.cat(logits, dim=1).T, torch.tensor(targets), reduction="sum")
    return loss.item(), hs, [torch.softmax(y, dim=0) for y in logits]


def one_hot_column(ix, V):
    """Reference one-hot column in torch: (V, 1), float64."""
    return torch.nn.functional.one_hot(torch.tensor(int(ix)), V).double().reshape(V, 1)


def hot_index(x):
    """The index of the largest entry of x (a one-hot of any shape)."""
    return int(torch.as_tensor(x).reshape(-1).argmax())


def block_one_hot(ix, vocab_size):
    """A correct one_hot: (V, 1)."""
    return one_hot_column(ix, vocab_size).numpy()


def softmax_column(y):
    """Reference softmax in torch of a column of logits (V, 1): (V, 1), float64."""
    return torch.softmax(torch.as_tensor(y, dtype=torch.float64), dim=0)


def block_softmax(y):
    """A correct softmax of a column (V, 1)."""
    return softmax_column(y).numpy()


def block_rnn_step_forward(x, h_prev, params):
    """A correct rnn_step_forward with numpy results: (h (H, 1), y (V, 1), p (V, 1))."""
    return tuple(value.numpy() for value in step_forward(x, h_prev, params))


# The graded functions in notebook order, with the correct versions the later test cells run on.
GRADED = ("one_hot", "softmax", "rnn_step_forward", "rnn_forward", "init_params", "sample")


def use_reference_blocks(namespace, cell):
    """Correct versions of the graded functions before `cell` (a name in GRADED), until the running
    cell ends: a bug in one of them costs only the points of its own cell (helpers.reference_swap)."""
    from helpers.reference_swap import use_earlier

    use_earlier(namespace, GRADED, cell, one_hot=block_one_hot, softmax=block_softmax,
                rnn_step_forward=block_rnn_step_forward)


