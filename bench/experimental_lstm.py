"""EXPERIMENTAL — a patched copy of a5's numpy LSTM, to measure what a change to the solution gains.

Not the kit's code and never used for published figures: `bench/kernels.py --experimental` times it
beside the kit's `lstm_forward` + `lstm_backward` after checking that it computes the same outputs,
dL/dx and twelve gradients. Same interface and layout as a5 (xs (T, D, N), h (H, N), the twelve
named parameters); the changes, each what torch's CPU LSTM does too:

- the four gates stacked: one (4H, H) matrix for h and one (4H, D) for x, so a step does one
  matmul forward (W_h @ h_{t-1}) and one backward (W_h^T @ da_t) instead of 8 and 16;
- what does not feed the recurrence is done once for all T steps: the input projection
  W_x @ x_t (forward) and dW_h, dW_x, db, dx (backward) as a few large matmuls over T * N columns;
- the caches are preallocated arrays (T, 4H, N), (T + 1, H, N), not a list of dicts of
  per-step arrays, and the dtype of the inputs is kept (float32 stays float32).
"""
from __future__ import annotations

import numpy as np

GATES = ("f", "i", "o", "c")  # sigmoid gates first, so one sigmoid covers rows 0 .. 3H


def stack(params):
    """W_h (4H, H), W_x (4H, D), b (4H, 1) from the twelve named parameters, gates in GATES order."""
    return tuple(np.concatenate([params[f"{p}{g}{s}"] for g in GATES])
                 for p, s in (("W", "h"), ("W", "x"), ("b", "")))


def lstm_forward(xs, h0, c0, params):
    """xs (T, D, N), h0 and c0 (H, N) -> hs (T, H, N), cs (T, H, N), cache (for lstm_backward)."""
    Wh, Wx, b = stack(params)
    T, _, N = xs.shape
    H = Wh.shape[1]
    gates = np.matmul(Wx, xs) + b                    # (T, 4H, N): every step's input part at once
    hs = np.empty((T + 1, H, N), dtype=gates.dtype)  # hs[t + 1] = h_t; hs[0] = h0
    cs = np.empty_like(hs)
    tanh_cs = np.empty((T, H, N), dtype=gates.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        g = gates[t]
        g += Wh @ hs[t]
        g[:3 * H] = 0.5 * (1.0 + np.tanh(0.5 * g[:3 * H]))  # sigmoid, as a5's (never overflows)
        np.tanh(g[3 * H:], out=g[3 * H:])
        f, i, o, cbar = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * cbar
        np.tanh(cs[t + 1], out=tanh_cs[t])
        np.multiply(o, tanh_cs[t], out=hs[t + 1])
    return hs[1:], cs[1:], (xs, hs, cs, gates, tanh_cs, Wh, Wx)


def lstm_backward(dhs, cache):
    """dhs (T, H, N) -> dxs (T, D, N), dh0 (H, N), dc0 (H, N), grads (a5's twelve names)."""
    xs, hs, cs, gates, tanh_cs, Wh, Wx = cache
    T, H = len(gates), Wh.shape[1]
    das = np.empty_like(gates)                       # (T, 4H, N): dL/d(pre-activation) per step
    dh, dc = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    for t in reversed(range(T)):
        g, da = gates[t], das[t]
        f, i, o, cbar = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:]
        dh += dhs[t]
        dc += dh * o * (1.0 - tanh_cs[t] ** 2)
        np.multiply(dc * cs[t], f * (1.0 - f), out=da[:H])
        np.multiply(dc * cbar, i * (1.0 - i), out=da[H:2 * H])
        np.multiply(dh * tanh_cs[t], o * (1.0 - o), out=da[2 * H:3 * H])
        np.multiply(dc * i, 1.0 - cbar ** 2, out=da[3 * H:])
        dh = Wh.T @ da
        dc *= f
    # Sums over steps and columns: one matmul each over all T * N columns.
    dWh = np.tensordot(das, hs[:-1], axes=([0, 2], [0, 2]))
    dWx = np.tensordot(das, xs, axes=([0, 2], [0, 2]))
    db = das.sum(axis=(0, 2))[:, None]
    dxs = np.matmul(Wx.T, das)
    grads = {}
    for n, g in enumerate(GATES):
        rows = slice(n * H, (n + 1) * H)
        grads[f"dW{g}h"], grads[f"dW{g}x"], grads[f"db{g}"] = dWh[rows], dWx[rows], db[rows]
    return dxs, dh, dc, grads
