"""Instructor-only references for the hidden tests of assignment 5 (the numpy LSTM).

Never released: at release each hidden test's `from reference import ...` is replaced by the
definitions it names (helpers/instructor/references.py). The layout is the notebook's: a batch is
a matrix of columns, x (D, N), h and c (H, N); params holds Wfh, Wih, Wch, Woh (H, H),
Wfx, Wix, Wcx, Wox (H, D) and bf, bi, bc, bo (H, 1). The oracles are written in torch and the
comparisons use torch operations only, so a submission that replaces np.allclose or
np.testing.* fools none of them."""
import numpy as np
import torch
from helpers.reference_compare import close

GATES = "fico"        # our order: forget, input, candidate, output
TORCH_GATES = "ifco"  # torch.nn.LSTM's order: input, forget, candidate (its g), output


# ---------------------------------------------------------------- comparisons
def t64(value):
    """value as a float64 torch tensor of the same shape."""
    return torch.as_tensor(value, dtype=torch.float64)


def mismatches(got, want, tol=1e-9):
    """What the dict got lacks or gets wrong among the keys of the dict want, as words ("" when
    nothing): "not a dict", "no key 'dWfh'", or "wrong 'dWfh', 'dbo'"."""
    if not isinstance(got, dict):
        return "not a dict"
    missing = [key for key in want if key not in got]
    if missing:
        return "no key " + ", ".join(map(repr, missing))
    wrong = [repr(key) for key in want if not close(got[key], want[key], tol)]
    return "wrong " + ", ".join(wrong) if wrong else ""


def rows_equal(grad, tol=1e-12):
    """True when every row of grad (one row per hidden unit) equals the first, to tol relative."""
    grad = t64(grad)
    return (grad - grad[:1]).abs().max().item() <= tol * max(1.0, grad.abs().max().item())


def looks_drawn(values, mean, std, sigmas=5):
    """True when values (any shape) could be drawn from a distribution with this mean and standard
    deviation: their mean within `sigmas` standard errors and, for more than 1000 values, their
    standard deviation within 5 % of std (5 standard errors: a false alarm once in a million runs)."""
    values = t64(values).reshape(-1)
    n = values.numel()
    return (abs(values.mean().item() - mean) < sigmas * std / n ** 0.5
            and (n <= 1000 or abs(values.std().item() / std - 1) < 0.05))


def numerical_gradient(loss, array, entries=None, eps=1e-6):
    """Centred differences of loss, a function of one array shaped like `array` (not modified): a
    float64 tensor of array's shape, d loss / d array at `entries` (a list of index tuples; every
    entry when None), zero elsewhere."""
    grad = torch.zeros(array.shape, dtype=torch.float64)
    for entry in (np.ndindex(array.shape) if entries is None else entries):
        moved_up, moved_down = array.copy(), array.copy()
        moved_up[entry] += eps
        moved_down[entry] -= eps
        grad[entry] = (float(loss(moved_up)) - float(loss(moved_down))) / (2 * eps)
    return grad


# ---------------------------------------------------------------- random problems
def param_shapes(D, H):
    """{"Wfh": (H, H), "Wfx": (H, D), "bf": (H, 1), "Wih": ..., "bo": (H, 1)}, gates in our order."""
    return {name: shape for gate in GATES
            for name, shape in (("W" + gate + "h", (H, H)), ("W" + gate + "x", (H, D)), ("b" + gate, (H, 1)))}


def random_step(seed, D, H, N, scale=0.6, c_scale=1.0):
    """(params, x, h_prev, c_prev, dh, dc) for one step, from the generator of `seed`: params from
    N(0, scale²); x (D, N) from N(0, 1); h_prev (H, N) from U(-1, 1); c_prev (H, N) from
    N(0, c_scale²); upstream gradients dh, dc (H, N) from N(0, 1)."""
    generator = np.random.default_rng(seed)
    params = {name: generator.normal(0.0, scale, shape) for name, shape in param_shapes(D, H).items()}
    return (params, generator.normal(size=(D, N)), generator.uniform(-1.0, 1.0, (H, N)),
            generator.normal(0.0, c_scale, (H, N)), generator.normal(size=(H, N)), generator.normal(size=(H, N)))


def random_run(seed, T, D, H, N, scale=0.6):
    """(params, xs, h0, c0, dhs) for a sequence: params, h0 and c0 as the params, h_prev and c_prev of
    random_step(seed, ...); xs (T, D, N) and dhs (T, H, N), the gradients from above, from N(0, 1)."""
    params, _, h0, c0, _, _ = random_step(seed, D, H, N, scale)
    rng = np.random.default_rng([seed, T])
    return params, rng.normal(size=(T, D, N)), h0, c0, rng.normal(size=(T, H, N))


# ---------------------------------------------------------------- the cell, for numpy and torch alike
def lstm_cell(x, h_prev, c_prev, weights, sigmoid, tanh):
    """One LSTM step on numpy arrays or on torch tensors (with that library's sigmoid and tanh):
    x (D, N), h_prev and c_prev (H, N), weights keyed as params. Returns a dict of (H, N) values:
    the pre-activations a_f, a_i, a_c, a_o, the gates f, i, cbar, o, and c, tanh_c, h."""
    out = {"a_" + gate: weights["W" + gate + "h"] @ h_prev + weights["W" + gate + "x"] @ x + weights["b" + gate]
           for gate in GATES}
    out.update(f=sigmoid(out["a_f"]), i=sigmoid(out["a_i"]), cbar=tanh(out["a_c"]), o=sigmoid(out["a_o"]))
    out["c"] = out["f"] * c_prev + out["i"] * out["cbar"]
    out["tanh_c"] = tanh(out["c"])
    out["h"] = out["o"] * out["tanh_c"]
    return out


def numpy_sigmoid(a):
    """The logistic function of an array, element-wise, without overflow."""
    return (1.0 + np.tanh(a / 2)) / 2


# ---------------------------------------------------------------- numpy references (swapped in for earlier functions)
def step_forward(x, h_prev, c_prev, params):
    """The reference lstm_step_forward: (h (H, N), c (H, N), cache) for x (D, N), h_prev, c_prev (H, N)."""
    out = lstm_cell(x, h_prev, c_prev, params, numpy_sigmoid, np.tanh)
    cache = {key: out[key] for key in ("f", "i", "cbar", "o", "c", "tanh_c")}
    cache.update(x=x, h_prev=h_prev, c_prev=c_prev, params=params)
    return out["h"], out["c"], cache


def local_derivatives(cache):
    """The reference lstm_local_derivatives: ten (H, N) arrays, the diagonals of the local Jacobians."""
    f, i, cbar, o, tanh_c = (cache[key] for key in ("f", "i", "cbar", "o", "tanh_c"))
    return {"dh_dc": o * (1.0 - tanh_c ** 2), "dh_do": tanh_c, "dc_df": cache["c_prev"], "dc_di": cbar,
            "dc_dcbar": i, "dc_dcprev": f, "df_daf": f * (1.0 - f), "di_dai": i * (1.0 - i),
            "dcbar_dac": 1.0 - cbar ** 2, "do_dao": o * (1.0 - o)}


def step_backward(dh, dc, cache):
    """The reference lstm_step_backward: (dx (D, N), dh_prev (H, N), dc_prev (H, N), grads) for
    dh, dc (H, N); grads holds dWfh, ..., dbo summed over the N columns."""
    d = local_derivatives(cache)
    dc_total = dc + dh * d["dh_dc"]
    da = {"f": dc_total * d["dc_df"] * d["df_daf"], "i": dc_total * d["dc_di"] * d["di_dai"],
          "c": dc_total * d["dc_dcbar"] * d["dcbar_dac"], "o": dh * d["dh_do"] * d["do_dao"]}
    params, grads = cache["params"], {}
    for gate, da_gate in da.items():
        grads.update({"dW" + gate + "h": da_gate @ cache["h_prev"].T, "dW" + gate + "x": da_gate @ cache["x"].T,
                      "db" + gate: da_gate.sum(axis=1, keepdims=True)})
    dx = sum(params["W" + gate + "x"].T @ da_gate for gate, da_gate in da.items())
    dh_prev = sum(params["W" + gate + "h"].T @ da_gate for gate, da_gate in da.items())
    return dx, dh_prev, dc_total * d["dc_dcprev"], grads


def forward(xs, h0, c0, params):
    """The reference lstm_forward: (hs (T, H, N), cs (T, H, N), list of T step caches) for xs (T, D, N)."""
    states, caches = [(h0, c0)], []
    for x in xs:
        h, c, cache = step_forward(x, *states[-1], params)
        states.append((h, c))
        caches.append(cache)
    return np.stack([h for h, _ in states[1:]]), np.stack([c for _, c in states[1:]]), caches


def backward(dhs, caches):
    """The reference lstm_backward: (dxs (T, D, N), dh0 (H, N), dc0 (H, N), grads summed over time)."""
    dh, dc, dxs = np.zeros_like(caches[0]["h_prev"]), np.zeros_like(caches[0]["c_prev"]), []
    grads = {"d" + name: np.zeros_like(value) for name, value in caches[0]["params"].items()}
    for dh_above, cache in zip(dhs[::-1], caches[::-1]):
        dx, dh, dc, step_grads = step_backward(dh_above + dh, dc, cache)
        dxs.insert(0, dx)
        grads = {name: total + step_grads[name] for name, total in grads.items()}
    return np.stack(dxs), dh, dc, grads


# ---------------------------------------------------------------- torch oracles
def torch_params(params):
    """params as float64 tensors (same keys)."""
    return {name: t64(value) for name, value in params.items()}


def torch_step(x, h_prev, c_prev, params):
    """lstm_cell in torch on numpy x (D, N), h_prev, c_prev (H, N): its dict of tensors, plus the inputs."""
    inputs = {"x": t64(x), "h_prev": t64(h_prev), "c_prev": t64(c_prev)}
    return dict(lstm_cell(*inputs.values(), torch_params(params), torch.sigmoid, torch.tanh), **inputs)


def torch_local_derivatives(x, h_prev, c_prev, params):
    """Autograd's local derivatives of one step, each equation differentiated with its own inputs
    as leaves: the ten (H, N) tensors keyed as lstm_local_derivatives's dict."""
    step = torch_step(x, h_prev, c_prev, params)
    a = {gate: step["a_" + gate].detach().requires_grad_() for gate in GATES}
    gates = {"f": torch.sigmoid(a["f"]), "i": torch.sigmoid(a["i"]), "c": torch.tanh(a["c"]), "o": torch.sigmoid(a["o"])}
    f, i, cbar, o, c_prev_leaf = (value.detach().requires_grad_()
                                  for value in (*gates.values(), step["c_prev"]))
    c = f * c_prev_leaf + i * cbar
    c_leaf = c.detach().requires_grad_()
    h = o * torch.tanh(c_leaf)
    want = dict(zip(("dh_dc", "dh_do"), torch.autograd.grad(h.sum(), (c_leaf, o))))
    want.update(zip(("dc_df", "dc_di", "dc_dcbar", "dc_dcprev"), torch.autograd.grad(c.sum(), (f, i, cbar, c_prev_leaf))))
    for key, gate in (("df_daf", "f"), ("di_dai", "i"), ("dcbar_dac", "c"), ("do_dao", "o")):
        (want[key],) = torch.autograd.grad(gates[gate].sum(), a[gate])
    return want


def torch_jacobians(x, h_prev, c_prev, params):
    """Autograd's Jacobians of one step for one column, x (D, 1), h_prev, c_prev (H, 1): the six
    tensors keyed as lstm_step_jacobians's dict (dh_dWfx[k, j] = d h[k] / d Wfx[k, j])."""
    D, H = len(x), len(h_prev)
    weights = torch_params(params)

    def h_and_c(x_, h_prev_, c_prev_, Wfx, Wcx):
        step = lstm_cell(x_, h_prev_, c_prev_, dict(weights, Wfx=Wfx, Wcx=Wcx), torch.sigmoid, torch.tanh)
        return step["h"], step["c"]

    of_h, of_c = torch.autograd.functional.jacobian(
        h_and_c, (t64(x), t64(h_prev), t64(c_prev), weights["Wfx"], weights["Wcx"]))
    return {"dh_dx": of_h[0].reshape(H, D), "dh_dhprev": of_h[1].reshape(H, H), "dh_dcprev": of_h[2].reshape(H, H),
            "dc_dhprev": of_c[1].reshape(H, H),
            "dh_dWfx": of_h[3].reshape(H, H, D).sum(dim=0), "dh_dWcx": of_h[4].reshape(H, H, D).sum(dim=0)}


def torch_step_gradients(x, h_prev, c_prev, params, dh, dc):
    """Autograd's gradients of L = sum(dh * h_t) + sum(dc * C_t) for one step: (inputs, grads), two
    dicts of tensors, inputs with "dx" (D, N), "dh_prev" and "dc_prev" (H, N), grads with "dWfh", ...,
    "dbo" (the parameters' shapes)."""
    leaves = {name: value.requires_grad_() for name, value in
              dict(torch_params(params), x=t64(x), h_prev=t64(h_prev), c_prev=t64(c_prev)).items()}
    step = lstm_cell(leaves["x"], leaves["h_prev"], leaves["c_prev"], leaves, torch.sigmoid, torch.tanh)
    ((t64(dh) * step["h"]).sum() + (t64(dc) * step["c"]).sum()).backward()
    return ({"d" + name: leaves[name].grad for name in ("x", "h_prev", "c_prev")},
            {"d" + name: leaves[name].grad for name in params})


def torch_forward(xs, h0, c0, params):
    """The LSTM over xs (T, D, N) from h0, c0 (H, N), step by step in torch: (hs, cs), (T, H, N) tensors."""
    weights, steps = torch_params(params), [{"h": t64(h0), "c": t64(c0)}]
    for x in t64(xs):
        steps.append(lstm_cell(x, steps[-1]["h"], steps[-1]["c"], weights, torch.sigmoid, torch.tanh))
    return torch.stack([step["h"] for step in steps[1:]]), torch.stack([step["c"] for step in steps[1:]])


def torch_bias(params):
    """The biases stacked in torch's gate order, shape (4H,): what bias_ih_l0 + bias_hh_l0 must hold."""
    return t64(np.concatenate([params["b" + gate] for gate in TORCH_GATES]).reshape(-1))


def torch_lstm(params):
    """A float64 torch.nn.LSTM computing the LSTM of params (biases in bias_ih_l0, zeros in bias_hh_l0)."""
    stacked = {kind: t64(np.concatenate([params["W" + gate + kind] for gate in TORCH_GATES])) for kind in "xh"}
    module = torch.nn.LSTM(stacked["x"].shape[1], stacked["h"].shape[1], dtype=torch.float64)
    module.load_state_dict({"weight_ih_l0": stacked["x"], "weight_hh_l0": stacked["h"], "bias_ih_l0": torch_bias(params),
                            "bias_hh_l0": torch.zeros_like(torch_bias(params))})
    return module


def run_torch_lstm(lstm, xs, h0, c0, dhs=None):
    """Run a torch.nn.LSTM on xs (T, D, N) from h0, c0 (H, N), in our layout; with dhs (T, H, N),
    also backpropagate L = sum_t sum(dhs[t] * h_t). Returns a dict of float64 tensors: "hs" (T, H, N),
    "c_last" (H, N) and, with dhs, "dxs" (T, D, N), "dh0", "dc0" (H, N), and "grads", the dict of the
    parameters' gradients "dWfh", ..., "dbo"."""
    X = t64(np.ascontiguousarray(xs.transpose(0, 2, 1))).requires_grad_()
    H0, C0 = t64(h0.T[None]).requires_grad_(), t64(c0.T[None]).requires_grad_()
    out, (_, c_last) = lstm(X, (H0, C0))
    result = {"hs": out.detach().permute(0, 2, 1), "c_last": c_last.detach()[0].T}
    if dhs is not None:
        (out * t64(dhs.transpose(0, 2, 1))).sum().backward()
        result.update(dxs=X.grad.permute(0, 2, 1), dh0=H0.grad[0].T, dc0=C0.grad[0].T, grads={})
        for gate, dWx, dWh, db in zip(TORCH_GATES, lstm.weight_ih_l0.grad.chunk(4), lstm.weight_hh_l0.grad.chunk(4),
                                      lstm.bias_ih_l0.grad.chunk(4)):
            result["grads"].update({"dW" + gate + "x": dWx, "dW" + gate + "h": dWh, "db" + gate: db.reshape(-1, 1)})
    return result
