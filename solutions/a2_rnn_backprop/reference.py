"""Assignment 2's hidden-test references and comparisons, written once (instructor-only).

The hidden tests import from here inside a function; the release inlines what they import
(helpers/instructor/references.py). The oracle is torch's autograd on the same forward pass,
with centred differences and min-char-rnn's own lossFun as second opinions. Comparisons use
torch, never numpy's comparison functions, which a submission can replace."""
import numpy as np
import torch
from helpers.reference_compare import close, mismatch

GRAD_NAMES = ("dWxh", "dWhh", "dWhy", "dbh", "dby")


def generator(seed):
    """numpy Generator of `seed`."""
    return np.random.default_rng(seed)


def generators(*seeds):
    """(seed, numpy Generator) for each seed."""
    return [(seed, generator(seed)) for seed in seeds]


def param_shapes(V, H):
    """name -> shape: Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1)."""
    return {"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H, 1), "by": (V, 1)}


def random_params(rng, V, H, scale):
    """Parameters with independent normal(0, scale) entries, drawn from rng in param_shapes' order."""
    return {name: rng.normal(0.0, scale, shape) for name, shape in param_shapes(V, H).items()}


def random_sequence(rng, V, H, T):
    """(inputs, targets, h0): two lists of T ints in [0, V) and a state (H, 1) uniform in [-1, 1]."""
    inputs = [int(ix) for ix in rng.integers(V, size=T)]
    targets = [int(ix) for ix in rng.integers(V, size=T)]
    return inputs, targets, rng.uniform(-1.0, 1.0, (H, 1))


def copies(arrays):
    """A dict of copies of the arrays of a dict."""
    return {name: np.array(value, copy=True) for name, value in arrays.items()}


def explain_gradients(got, want, tol=1e-9):
    """What is wrong with a dict of gradients got, against want (GRAD_NAMES -> tensor); '' when nothing."""
    if not isinstance(got, dict):
        return f"rnn_backward must return a dict, got {type(got).__name__}"
    missing = [name for name in want if name not in got]
    problems = [f"{name} {mismatch(got[name], value, tol)}" for name, value in want.items()
                if name in got and mismatch(got[name], value, tol)]
    return f"no '{missing[0]}' in the dict" if missing else "; ".join(problems)


def reference_cache(inputs, h0, params):
    """The cache of rnn_forward, computed in numpy: {"xs", "hs", "ps"}, dicts keyed by t (hs from -1)."""
    V = params["Why"].shape[0]
    xs, hs, ps = {}, {-1: np.array(h0, copy=True)}, {}
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((V, 1))
        xs[t][ix, 0] = 1.0
        hs[t] = np.tanh(params["Wxh"] @ xs[t] + params["Whh"] @ hs[t - 1] + params["bh"])
        y = params["Why"] @ hs[t] + params["by"]
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()
    return {"xs": xs, "hs": hs, "ps": ps}


def sequence_loss(cache, targets):
    """The summed cross-entropy -sum_t ln ps[t][targets[t]] of a cache: float."""
    return -sum(float(np.log(cache["ps"][t][target, 0])) for t, target in enumerate(targets))


def torch_gradients(inputs, targets, h0, params):
    """torch autograd on the forward pass: (summed loss: float, GRAD_NAMES -> gradient tensor, h_last (H, 1))."""
    P = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    h, logits = torch.as_tensor(h0, dtype=torch.float64), []
    for ix in inputs:
        h = torch.tanh(P["Wxh"][:, [ix]] + P["Whh"] @ h + P["bh"])
        logits.append((P["Why"] @ h + P["by"]).reshape(-1))
    loss = torch.nn.functional.cross_entropy(torch.stack(logits), torch.tensor(targets), reduction="sum")
    loss.backward()
    return loss.item(), {"d" + name: value.grad for name, value in P.items()}, h.detach()


def numerical_gradients(inputs, targets, h0, params, step=1e-5):
    """Centred differences of the summed loss, entry by entry (numpy float64): GRAD_NAMES -> tensor.
    params is changed during the call and restored exactly."""
    gradients = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            old = value[index]
            value[index] = old + step
            plus = sequence_loss(reference_cache(inputs, h0, params), targets)
            value[index] = old - step
            minus = sequence_loss(reference_cache(inputs, h0, params), targets)
            value[index] = old
            grad[index] = (plus - minus) / (2 * step)
        gradients["d" + name] = torch.as_tensor(grad)
    return gradients


def backward(targets, cache, params):
    """A correct rnn_backward (numpy): GRAD_NAMES -> gradient of the parameter's shape."""
    xs, hs, ps = (cache[key] for key in ("xs", "hs", "ps"))
    grads = {"d" + name: np.zeros_like(params[name]) for name in ("Wxh", "Whh", "Why", "bh", "by")}
    carry = np.zeros_like(hs[0])
    for t in range(len(targets) - 1, -1, -1):
        dy = ps[t].copy()
        dy[targets[t], 0] -= 1.0
        grads["dWhy"] += dy @ hs[t].T
        grads["dby"] += dy
        dz = (1.0 - hs[t] ** 2) * (params["Why"].T @ dy + carry)
        grads["dbh"] += dz
        grads["dWxh"] += dz @ xs[t].T
        grads["dWhh"] += dz @ hs[t - 1].T
        carry = params["Whh"].T @ dz
    return grads


# The graded functions in notebook order, with the correct versions the later test cells run on.
GRADED = ("rnn_backward", "loss_fun", "clip_gradients", "clip_by_global_norm", "adagrad_update")


def use_reference_blocks(namespace, cell):
    """Correct versions of the graded functions before `cell` (a name in GRADED), until the running
    cell ends: a bug in one of them costs only the points of its own cell (helpers.reference_swap)."""
    from helpers.reference_swap import use_earlier

    use_earlier(namespace, GRADED, cell, rnn_backward=backward)


def minchar_lossfun(inputs, targets, hprev, params):
    """min-char-rnn's lossFun, as Karpathy wrote it (xrange made range; its clipping at 5 included):
    (loss: float, GRAD_NAMES -> clipped gradient, h_last (H, 1))."""
    Wxh, Whh, Why, bh, by = (params[name] for name in ("Wxh", "Whh", "Why", "bh", "by"))
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    # forward pass
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size,1)) # encode in 1-of-k representation
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh) # hidden state
        ys[t] = np.dot(Why, hs[t]) + by # unnormalized log probabilities for next chars
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t])) # probabilities for next chars
        loss += -np.log(ps[t][targets[t],0]) # softmax (cross-entropy loss)
    # backward pass: compute gradients going backwards
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1 # backprop into y
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext # backprop into h
        dhraw = (1 - hs[t] * hs[t]) * dh # backprop through tanh nonlinearity
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t-1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam) # clip to mitigate exploding gradients
    return float(loss), dict(zip(GRAD_NAMES, (dWxh, dWhh, dWhy, dbh, dby))), hs[len(inputs)-1]


def clamp(values, limit):
    """values (array-like) clipped entry by entry to [-limit, limit], as a float64 tensor."""
    return torch.clamp(torch.as_tensor(values, dtype=torch.float64), -limit, limit)


def global_norm(arrays):
    """torch's global norm of a dict of arrays (what clip_grad_norm_ measures): float."""
    tensors = [torch.as_tensor(value, dtype=torch.float64) for value in arrays.values()]
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors])).item()


def adagrad_step(params, memory, grads, learning_rate):
    """One Adagrad step in torch, as min-char-rnn (1e-8 inside the square root), without changing
    its arguments: (new params, new memory), dicts name -> tensor."""
    new_params, new_memory = {}, {}
    for name in params:
        g = torch.as_tensor(grads["d" + name], dtype=torch.float64)
        new_memory[name] = torch.as_tensor(memory[name], dtype=torch.float64) + g * g
        new_params[name] = (torch.as_tensor(params[name], dtype=torch.float64)
                            - learning_rate * g / torch.sqrt(new_memory[name] + 1e-8))
    return new_params, new_memory
