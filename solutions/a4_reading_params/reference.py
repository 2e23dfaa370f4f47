"""Assignment 4's hidden tests: references (torch as the oracle), random cases and comparisons (instructor-only).

The hidden tests import from here inside a function; the release inlines what they import."""
import numpy as np
import torch
from helpers.reference_compare import mismatch

PARAM_SHAPES = (("Wxh", "HV"), ("Whh", "HH"), ("Why", "VH"), ("bh", "H1"), ("by", "V1"))
CHARACTER_POOL = list(" \nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'&$-")


def sizes(seed, V_high, H_high, V_low=1, H_low=1):
    """(rng, V, H): a numpy generator seeded with seed, and the sizes it draws first, V in [V_low, V_high), H in
    [H_low, H_high)."""
    rng = np.random.default_rng(seed)
    return rng, int(rng.integers(V_low, V_high)), int(rng.integers(H_low, H_high))


def random_params(rng, V, H, scale):
    """Char-RNN parameters Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1), drawn from rng.normal(0, scale)."""
    sizes = {"H": H, "V": V, "1": 1}
    return {name: rng.normal(0.0, scale, (sizes[rows], sizes[cols])) for name, (rows, cols) in PARAM_SHAPES}


def torch_rnn_gradients(params, inputs, targets, h0):
    """Backpropagate the char-RNN loss -sum_t ln p_t[targets[t]] from h0 with torch autograd (float64).

    Returns (Wxh, zs): Wxh a tensor holding its gradient in .grad, zs the pre-activations z_t (H, 1) with theirs."""
    P = {name: torch.as_tensor(np.asarray(value, dtype=np.float64)) for name, value in params.items()}
    P["Wxh"].requires_grad_(True)
    V = P["Wxh"].shape[1]
    h, zs, total = torch.as_tensor(np.asarray(h0, dtype=np.float64)), [], torch.zeros((), dtype=torch.float64)
    for t in range(len(inputs)):
        x = torch.nn.functional.one_hot(torch.tensor(int(inputs[t])), V).double().reshape(V, 1)
        zs.append(P["Wxh"] @ x + P["Whh"] @ h + P["bh"])
        zs[-1].retain_grad()
        h = zs[-1].tanh()
        total = total - torch.log_softmax(P["Why"] @ h + P["by"], dim=0)[int(targets[t]), 0]
    torch.autograd.backward(total)
    return P["Wxh"], zs


def touched_case(seed):
    """(inputs: list of T ints, V, want: (V,) float tensor, 1.0 where autograd's gradient of a real RNN loss
    reaches that column of Wxh); the upper half of the vocabulary never occurs, seed 35 repeats one character."""
    rng, V, H = sizes(seed, 90, 12)
    T = {31: 1, 32: 2, 33: 25, 34: 60, 35: 5}[seed]
    inputs = [V - 1] * T if seed == 35 else [int(i) for i in rng.integers(0, max(1, V // 2), size=T)]
    Wxh, _ = torch_rnn_gradients(random_params(rng, V, H, 0.5), inputs, rng.integers(0, V, size=T), np.zeros((H, 1)))
    want = (Wxh.grad != 0).any(dim=0).double()
    assert want.tolist() == [float(c in inputs) for c in range(V)], "the test's own reference is inconsistent: tell the instructor"
    return inputs, V, want


def pre_activation_case(seed, T):
    """(inputs: list of T ints, dhraws: (H, T) array of dL/dz_t by autograd, V, want: dL/dWxh (H, V) tensor);
    seed 45 draws its inputs from 4 characters only (many repeats)."""
    rng, V, H = sizes(seed, 80, 20, V_low=2)
    params = random_params(rng, V, H, 0.5)
    inputs = [int(i) for i in rng.integers(0, min(V, 4 if seed == 45 else V), size=T)]
    targets = rng.integers(0, V, size=T)
    Wxh, zs = torch_rnn_gradients(params, inputs, targets, rng.uniform(-1.0, 1.0, (H, 1)))
    return inputs, torch.cat([z.grad for z in zs], dim=1).numpy(), V, Wxh.grad


def sparse_gradient(seed):
    """A gradient (H, V) with random zero columns, a column that sums to 0 (or is tiny) and a last column with one
    tiny entry, for seeds 51 to 56; and the indices of its nonzero columns by torch."""
    rng = np.random.Generator(np.random.PCG64(seed))  # as default_rng(seed)
    H, V = ((7, 3), (3, 7), (1, 1), (30, 65), (12, 12), (5, 40))[seed - 51]
    g = rng.normal(0.0, 1.0, (H, V)) * (rng.uniform(size=(1, V)) < 0.4)
    if V > 2:
        g[:, 0] = 0.0
        g[0, 0], g[-1, 0] = (0.25, -0.25) if H > 1 else (1e-12, 1e-12)
        g[:, -1] = 0.0
        g[-1, -1] = 1e-300 if seed % 2 else -3e-12
    return g, [int(c) for c in torch.nonzero((torch.as_tensor(g) != 0).any(dim=0)).flatten()]


def torch_counts(V, H):
    """The parameter counts of a char-RNN with V characters and H hidden units, from torch.nn.RNN and nn.Linear
    (torch's second hidden bias taken out: min-char-rnn has one)."""
    recurrent, output = torch.nn.RNN(V, H), torch.nn.Linear(H, V)  # tanh by default
    want = {"Wxh": recurrent.weight_ih_l0.numel(), "Whh": recurrent.weight_hh_l0.numel(), "bh": recurrent.bias_ih_l0.numel(),
            "Why": output.weight.numel(), "by": output.bias.numel()}
    want["total"] = sum(p.numel() for p in (*recurrent.parameters(), *output.parameters())) - H
    return want


def activations_case(seed, T):
    """(params, indices: list of T ints, h0 (H, 1), want: the states h_t as the columns of an (H, T) tensor);
    Whh scaled so that the state neither dies out nor amplifies rounding, seed 65 repeats one character."""
    rng, V, H = sizes(seed, 70, 40)
    params = random_params(rng, V, H, 0.6)
    params["Whh"] *= 1.5 / H ** 0.5
    indices = [int(i) for i in rng.integers(0, V, size=T)]
    if seed == 65:
        indices = [indices[0]] * T
    h0 = rng.uniform(-1.0, 1.0, (H, 1))
    zs = torch_rnn_gradients(params, indices, [0] * T, h0)[1]
    return params, indices, h0, torch.tanh(torch.cat(zs, dim=1)).detach()


def ref_nearest(W, chars, ch, k):
    """The k characters whose columns of W have the largest cosine similarity (torch) to that of ch, ties by index."""
    Wt = torch.as_tensor(np.asarray(W, dtype=np.float64))
    i = chars.index(ch)
    sims = torch.nn.functional.cosine_similarity(Wt.T, Wt[:, i].reshape(1, -1), dim=1).tolist()
    return [chars[j] for j in sorted((j for j in range(len(chars)) if j != i), key=lambda j: (-sims[j], j))][:k]


def random_columns(seed):
    """(W (H, V) with columns of very different lengths, chars: V characters of CHARACTER_POOL), seeds 71 to 74."""
    rng, V, H = sizes(seed, len(CHARACTER_POOL), 30, V_low=2, H_low=2)
    chars = [str(c) for c in rng.permutation(CHARACTER_POOL)[:V]]
    return rng.normal(0.0, 1.0, (H, V)) * rng.uniform(0.01, 10.0, (1, V)), chars


def tied_columns():
    """[(W, chars)] whose cosines are exact: duplicated and opposite +-1 columns (V = 9), and H = 1."""
    base = np.random.default_rng(75).choice([-1.0, 1.0], size=(4, 5))
    ties = np.concatenate([base, base[:, [0, 2]], -base[:, [1]], 2.0 * base[:, [2]]], axis=1)
    return [(ties, list("ponmlkjih")), (np.array([[0.5, -2.0, 3.0, 1.0, -0.1, 7.0]]), list("uvwxyz"))]
