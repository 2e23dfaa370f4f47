'''Assignment 5 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade twenty alternatives of the eight graded
functions.
'''

ASSIGNMENT = "a5_lstm"

LOOPS = "alt_loops"            # Python loops over columns, units or entries; outer products one example at a time
STACKED = "alt_stacked"        # the four gates as one stacked matrix, full Jacobian matrices, other draw order
LIBRARY = "alt_library"        # einsum, scipy's expit, torch.nn.Parameter

ALTERNATIVES = [
    # ------------------------------------------------------------------ alt_loops
    (LOOPS, "lstm_step_forward", '''import math

def lstm_step_forward(x, h_prev, c_prev, params):
    # One column (example) at a time, one gate at a time; the cell update unit by unit.
    H, N = h_prev.shape
    values = {name: np.zeros((H, N)) for name in ("f", "i", "cbar", "o")}
    for n in range(N):
        for name, gate, squash in (("f", "f", sigmoid), ("i", "i", sigmoid), ("cbar", "c", np.tanh),
                                   ("o", "o", sigmoid)):
            a = params["W" + gate + "h"] @ h_prev[:, n] + params["W" + gate + "x"] @ x[:, n] + params["b" + gate][:, 0]
            values[name][:, n] = squash(a)
    f, i, cbar, o = values["f"], values["i"], values["cbar"], values["o"]
    c, tanh_c, h = np.zeros((H, N)), np.zeros((H, N)), np.zeros((H, N))
    for k in range(H):
        for n in range(N):
            c[k, n] = f[k, n] * c_prev[k, n] + i[k, n] * cbar[k, n]
            tanh_c[k, n] = math.tanh(c[k, n])
            h[k, n] = o[k, n] * tanh_c[k, n]
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "f": f, "i": i, "cbar": cbar, "o": o,
             "c": c, "tanh_c": tanh_c, "params": params}
    return h, c, cache
'''),
    (LOOPS, "lstm_local_derivatives", '''def lstm_local_derivatives(cache):
    # Entry by entry, from the cache's values.
    keys = ("dh_dc", "dh_do", "dc_df", "dc_di", "dc_dcbar", "dc_dcprev", "df_daf", "di_dai", "dcbar_dac", "do_dao")
    H, N = np.shape(cache["f"])
    d = {key: np.zeros((H, N)) for key in keys}
    for k in range(H):
        for n in range(N):
            f, i, cbar, o = cache["f"][k, n], cache["i"][k, n], cache["cbar"][k, n], cache["o"][k, n]
            t = cache["tanh_c"][k, n]
            d["dh_dc"][k, n] = o * (1 - t * t)
            d["dh_do"][k, n] = t
            d["dc_df"][k, n] = cache["c_prev"][k, n]
            d["dc_di"][k, n] = cbar
            d["dc_dcbar"][k, n] = i
            d["dc_dcprev"][k, n] = f
            d["df_daf"][k, n] = f * (1 - f)
            d["di_dai"][k, n] = i * (1 - i)
            d["dcbar_dac"][k, n] = 1 - cbar * cbar
            d["do_dao"][k, n] = o * (1 - o)
    return d
'''),
    (LOOPS, "lstm_step_jacobians", '''def lstm_step_jacobians(cache):
    # Every entry by its own loop: row k of each Jacobian holds how unit k moves.
    d = lstm_local_derivatives(cache)
    P, x = cache["params"], cache["x"]
    H, D = P["Wfx"].shape
    dh_dhprev, dc_dhprev, dh_dcprev = np.zeros((H, H)), np.zeros((H, H)), np.zeros((H, H))
    dh_dx, dh_dWfx, dh_dWcx = np.zeros((H, D)), np.zeros((H, D)), np.zeros((H, D))
    for k in range(H):
        dh_dck = d["dh_dc"][k, 0]
        # dC_t[k] / d a_*[k] for the three gates through the cell, dh_t[k] / d a_o[k] for the output gate
        via_c = {"f": d["dc_df"][k, 0] * d["df_daf"][k, 0], "i": d["dc_di"][k, 0] * d["di_dai"][k, 0],
                 "c": d["dc_dcbar"][k, 0] * d["dcbar_dac"][k, 0]}
        via_o = d["dh_do"][k, 0] * d["do_dao"][k, 0]
        for j in range(H):
            dc_dhprev[k, j] = sum(via_c[g] * P["W" + g + "h"][k, j] for g in "fic")
            dh_dhprev[k, j] = dh_dck * dc_dhprev[k, j] + via_o * P["Woh"][k, j]
        for j in range(D):
            dh_dx[k, j] = dh_dck * sum(via_c[g] * P["W" + g + "x"][k, j] for g in "fic") + via_o * P["Wox"][k, j]
            dh_dWfx[k, j] = dh_dck * via_c["f"] * x[j, 0]
            dh_dWcx[k, j] = dh_dck * via_c["c"] * x[j, 0]
        dh_dcprev[k, k] = dh_dck * d["dc_dcprev"][k, 0]
    return {"dh_dhprev": dh_dhprev, "dh_dx": dh_dx, "dc_dhprev": dc_dhprev, "dh_dcprev": dh_dcprev,
            "dh_dWfx": dh_dWfx, "dh_dWcx": dh_dWcx}
'''),
    (LOOPS, "lstm_step_backward", '''def lstm_step_backward(dh, dc, cache):
    # One example (column) at a time: outer products added up over the batch by hand.
    P = cache["params"]
    x, h_prev, c_prev = cache["x"], cache["h_prev"], cache["c_prev"]
    f, i, cbar, o, tanh_c = cache["f"], cache["i"], cache["cbar"], cache["o"], cache["tanh_c"]
    grads = {"d" + name: np.zeros(np.shape(value)) for name, value in P.items()}
    dx, dh_prev, dc_prev = np.zeros(np.shape(x)), np.zeros(np.shape(h_prev)), np.zeros(np.shape(c_prev))
    for n in range(np.shape(x)[1]):
        dC = dc[:, n] + dh[:, n] * o[:, n] * (1 - tanh_c[:, n] ** 2)
        da = {"f": dC * c_prev[:, n] * f[:, n] * (1 - f[:, n]),
              "i": dC * cbar[:, n] * i[:, n] * (1 - i[:, n]),
              "c": dC * i[:, n] * (1 - cbar[:, n] ** 2),
              "o": dh[:, n] * tanh_c[:, n] * o[:, n] * (1 - o[:, n])}
        for gate, a in da.items():
            grads["dW" + gate + "h"] += np.outer(a, h_prev[:, n])
            grads["dW" + gate + "x"] += np.outer(a, x[:, n])
            grads["db" + gate][:, 0] += a
            dx[:, n] += P["W" + gate + "x"].T @ a
            dh_prev[:, n] += P["W" + gate + "h"].T @ a
        dc_prev[:, n] = dC * f[:, n]
    return dx, dh_prev, dc_prev, grads
'''),
    (LOOPS, "lstm_forward", '''def lstm_forward(xs, h0, c0, params):
    # Arrays allocated first, filled by a while loop; each step starts from the row written before.
    T = len(xs)
    H, N = np.shape(h0)
    hs, cs, cache = np.zeros((T, H, N)), np.zeros((T, H, N)), []
    t = 0
    while t < T:
        h_prev, c_prev = (h0, c0) if t == 0 else (hs[t - 1], cs[t - 1])
        hs[t], cs[t], step_cache = lstm_step_forward(xs[t], h_prev, c_prev, params)
        cache.append(step_cache)
        t += 1
    return hs, cs, cache
'''),
    (LOOPS, "lstm_backward", '''def lstm_backward(dhs, cache):
    # A private copy of dhs, into which each step adds the dh_prev it hands back.
    dhs = np.array(dhs, dtype=float)
    T = len(cache)
    D, N = np.shape(cache[0]["x"])
    dxs = np.zeros((T, D, N))
    grads = {"d" + name: np.zeros(np.shape(value)) for name, value in cache[0]["params"].items()}
    dc = np.zeros(np.shape(cache[0]["c_prev"]))
    t = T - 1
    while True:
        dxs[t], dh_prev, dc, step_grads = lstm_step_backward(dhs[t], dc, cache[t])
        for name, value in step_grads.items():
            grads[name] += value
        if t == 0:
            return dxs, dh_prev, dc, grads
        dhs[t - 1] += dh_prev
        t -= 1
'''),
    (LOOPS, "to_torch_lstm", '''def to_torch_lstm(params):
    # Block by block into the module's own tensors; each bias split in two equal halves.
    H, D = params["Wfx"].shape
    lstm = torch.nn.LSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        for n, gate in enumerate(("i", "f", "c", "o")):
            rows = slice(n * H, (n + 1) * H)
            lstm.weight_ih_l0[rows] = torch.tensor(params["W" + gate + "x"], dtype=torch.float64)
            lstm.weight_hh_l0[rows] = torch.tensor(params["W" + gate + "h"], dtype=torch.float64)
            half = torch.tensor(params["b" + gate][:, 0], dtype=torch.float64) / 2
            lstm.bias_ih_l0[rows] = half
            lstm.bias_hh_l0[rows] = half
    return lstm
'''),
    (LOOPS, "init_lstm_params", '''def init_lstm_params(D, H, rng, scheme="xavier"):
    # Gate by gate, input weights before recurrent ones, all the biases last.
    if scheme not in ("zeros", "report", "xavier"):
        raise ValueError("scheme must be 'zeros', 'report' or 'xavier', not " + repr(scheme))
    params = {}
    for gate in ("f", "i", "c", "o"):
        for kind, n_in in (("x", D), ("h", H)):
            shape = (H, n_in)
            if scheme == "zeros":
                weight = np.zeros(shape)
            elif scheme == "report":
                weight = rng.random(shape) * np.sqrt(2 / (D + H))
            else:
                weight = rng.normal(0.0, np.sqrt(2 / (n_in + H)), shape)
            params["W" + gate + kind] = weight
    for gate in ("f", "i", "c", "o"):
        params["b" + gate] = rng.random((H, 1)) if scheme == "report" else np.zeros((H, 1))
    return params
'''),
    # ------------------------------------------------------------------ alt_stacked
    (STACKED, "lstm_step_forward", '''def lstm_step_forward(x, h_prev, c_prev, params):
    # The report's form: per gate one matrix [W_*h, W_*x] on the stacked column [h_prev; x], the four
    # gates stacked into one (4H, H + D) matrix, one product, then split.
    W = np.vstack([np.hstack([params["W" + g + "h"], params["W" + g + "x"]]) for g in "fico"])
    b = np.vstack([params["b" + g] for g in "fico"])
    a_f, a_i, a_c, a_o = np.split(W @ np.vstack([h_prev, x]) + b, 4)
    f, i, cbar, o = sigmoid(a_f), sigmoid(a_i), np.tanh(a_c), sigmoid(a_o)
    c = f * c_prev + i * cbar
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, dict(x=x, h_prev=h_prev, c_prev=c_prev, f=f, i=i, cbar=cbar, o=o, c=c, tanh_c=tanh_c,
                      params=params)
'''),
    (STACKED, "lstm_local_derivatives", '''def lstm_local_derivatives(cache):
    def dsigmoid(s):        # sigma' written with sigma's value s
        return s - s * s

    def dtanh(t):           # tanh' written with tanh's value t
        return (1.0 - t) * (1.0 + t)

    return {"dh_dc": cache["o"] * dtanh(np.tanh(cache["c"])), "dh_do": np.tanh(cache["c"]),
            "dc_df": np.array(cache["c_prev"], dtype=float), "dc_di": cache["cbar"].copy(),
            "dc_dcbar": cache["i"].copy(), "dc_dcprev": cache["f"].copy(),
            "df_daf": dsigmoid(cache["f"]), "di_dai": dsigmoid(cache["i"]),
            "dcbar_dac": dtanh(cache["cbar"]), "do_dao": dsigmoid(cache["o"])}
'''),
    (STACKED, "lstm_step_jacobians", '''def lstm_step_jacobians(cache):
    # The chain rule with full matrices: every local Jacobian as a diagonal matrix, multiplied out.
    P = cache["params"]
    x = cache["x"][:, 0]
    f, i, cbar, o, tanh_c, c_prev = (cache[key][:, 0] for key in ("f", "i", "cbar", "o", "tanh_c", "c_prev"))
    dh_dC, dh_do = np.diag(o * (1 - tanh_c ** 2)), np.diag(tanh_c)
    dC_daf = np.diag(c_prev) @ np.diag(f * (1 - f))
    dC_dai = np.diag(cbar) @ np.diag(i * (1 - i))
    dC_dac = np.diag(i) @ np.diag(1 - cbar ** 2)
    do_dao = np.diag(o * (1 - o))
    dC_dhprev = dC_daf @ P["Wfh"] + dC_dai @ P["Wih"] + dC_dac @ P["Wch"]
    dC_dx = dC_daf @ P["Wfx"] + dC_dai @ P["Wix"] + dC_dac @ P["Wcx"]
    return {"dh_dhprev": dh_dC @ dC_dhprev + dh_do @ do_dao @ P["Woh"],
            "dh_dx": dh_dC @ dC_dx + dh_do @ do_dao @ P["Wox"],
            "dc_dhprev": dC_dhprev,
            "dh_dcprev": dh_dC @ np.diag(f),
            "dh_dWfx": np.outer(np.diag(dh_dC @ dC_daf), x),
            "dh_dWcx": np.outer(np.diag(dh_dC @ dC_dac), x)}
'''),
    (STACKED, "lstm_step_backward", '''def lstm_step_backward(dh, dc, cache):
    # With the local derivatives, and the four gates stacked: one (4H, N) gradient of the pre-activations.
    d = lstm_local_derivatives(cache)
    P = cache["params"]
    dC = dc + dh * d["dh_dc"]
    da = np.concatenate([dC * d["dc_df"] * d["df_daf"], dC * d["dc_di"] * d["di_dai"],
                         dC * d["dc_dcbar"] * d["dcbar_dac"], dh * d["dh_do"] * d["do_dao"]])
    Wh = np.concatenate([P["W" + g + "h"] for g in "fico"])   # (4H, H)
    Wx = np.concatenate([P["W" + g + "x"] for g in "fico"])   # (4H, D)
    blocks = zip("fico", np.split(da @ cache["h_prev"].T, 4), np.split(da @ cache["x"].T, 4),
                 np.split(da.sum(axis=1, keepdims=True), 4))
    grads = {}
    for g, dWh, dWx, db in blocks:
        grads["dW" + g + "h"], grads["dW" + g + "x"], grads["db" + g] = dWh, dWx, db
    return Wx.T @ da, Wh.T @ da, dC * d["dc_dcprev"], grads
'''),
    (STACKED, "lstm_forward", '''def lstm_forward(xs, h0, c0, params):
    steps, state = [], (h0, c0)
    for x in xs:
        h, c, step_cache = lstm_step_forward(x, *state, params)
        steps.append((h, c, step_cache))
        state = (h, c)
    hs, cs, cache = zip(*steps)
    return np.array(hs), np.array(cs), list(cache)
'''),
    (STACKED, "lstm_backward", '''def lstm_backward(dhs, cache):
    # Every step's gradients kept, added up at the end; dxs collected backwards and reversed.
    dh_future, dc_future = np.zeros_like(dhs[0]), np.zeros_like(dhs[0])
    dxs_backwards, step_grads = [], []
    for dh_above, step in zip(dhs[::-1], cache[::-1]):
        dx, dh_future, dc_future, grads = lstm_step_backward(dh_above + dh_future, dc_future, step)
        dxs_backwards.append(dx)
        step_grads.append(grads)
    total = {name: sum(grads[name] for grads in step_grads) for name in step_grads[0]}
    return np.stack(dxs_backwards[::-1]), dh_future, dc_future, total
'''),
    (STACKED, "to_torch_lstm", '''def to_torch_lstm(params):
    # Stacked in torch, loaded as a state dict; the biases in bias_hh_l0 this time, zeros in bias_ih_l0.
    P = {name: torch.tensor(value, dtype=torch.float64) for name, value in params.items()}
    H, D = P["Wfx"].shape
    lstm = torch.nn.LSTM(input_size=D, hidden_size=H).double()
    order = ("i", "f", "c", "o")
    lstm.load_state_dict({"weight_ih_l0": torch.cat([P["W" + g + "x"] for g in order]),
                          "weight_hh_l0": torch.cat([P["W" + g + "h"] for g in order]),
                          "bias_ih_l0": torch.zeros(4 * H, dtype=torch.float64),
                          "bias_hh_l0": torch.cat([P["b" + g] for g in order]).reshape(-1)})
    return lstm
'''),
    (STACKED, "init_lstm_params", '''def init_lstm_params(D, H, rng, scheme="xavier"):
    if scheme not in {"zeros", "report", "xavier"}:
        raise ValueError(f"unknown scheme {scheme}")

    def weight(shape):
        if scheme == "report":
            return rng.uniform(0.0, np.sqrt(2.0 / (D + H)), size=shape)
        if scheme == "xavier":
            return rng.standard_normal(shape) * np.sqrt(2.0 / sum(shape))
        return np.zeros(shape)

    def bias(shape):
        return rng.uniform(size=shape) if scheme == "report" else np.zeros(shape)

    # Draw order: all the biases first, then the weights.
    shapes = lstm_param_shapes(D, H)
    params = {name: bias(shape) for name, shape in shapes.items() if name[0] == "b"}
    params.update({name: weight(shape) for name, shape in shapes.items() if name[0] == "W"})
    return params
'''),
    # ------------------------------------------------------------------ alt_library
    (LIBRARY, "lstm_step_forward", '''from scipy.special import expit

def lstm_step_forward(x, h_prev, c_prev, params):
    # scipy's expit (a safe 1 / (1 + exp(-a))) and einsum for the products.
    def pre(g):
        return (np.einsum("hk,kn->hn", params["W" + g + "h"], h_prev)
                + np.einsum("hd,dn->hn", params["W" + g + "x"], x) + params["b" + g])

    f, i, o = expit(pre("f")), expit(pre("i")), expit(pre("o"))
    cbar = np.tanh(pre("c"))
    c = np.add(np.multiply(f, c_prev), np.multiply(i, cbar))
    tanh_c = np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "f": f, "i": i, "cbar": cbar, "o": o, "c": c,
             "tanh_c": tanh_c, "params": params}
    return np.multiply(o, tanh_c), c, cache
'''),
    (LIBRARY, "lstm_step_jacobians", '''def lstm_step_jacobians(cache):
    # diag(v) W as einsum "k,kj->kj" (rows scaled), the outer products as einsum "k,j->kj".
    d = {key: value[:, 0] for key, value in lstm_local_derivatives(cache).items()}
    P, x = cache["params"], cache["x"][:, 0]
    c_of = {"f": d["dc_df"] * d["df_daf"], "i": d["dc_di"] * d["di_dai"], "c": d["dc_dcbar"] * d["dcbar_dac"]}
    h_of = {gate: d["dh_dc"] * v for gate, v in c_of.items()}
    h_of["o"] = d["dh_do"] * d["do_dao"]

    def scale_rows(v, W):
        return np.einsum("k,kj->kj", v, W)

    return {"dh_dhprev": sum(scale_rows(v, P["W" + gate + "h"]) for gate, v in h_of.items()),
            "dh_dx": sum(scale_rows(v, P["W" + gate + "x"]) for gate, v in h_of.items()),
            "dc_dhprev": sum(scale_rows(v, P["W" + gate + "h"]) for gate, v in c_of.items()),
            "dh_dcprev": scale_rows(d["dh_dc"] * d["dc_dcprev"], np.eye(len(d["dh_dc"]))),
            "dh_dWfx": np.einsum("k,j->kj", h_of["f"], x),
            "dh_dWcx": np.einsum("k,j->kj", h_of["c"], x)}
'''),
    (LIBRARY, "lstm_step_backward", '''def lstm_step_backward(dh, dc, cache):
    # einsum for every product; the batch sum inside the einsum.
    P = cache["params"]
    f, i, cbar, o, tanh_c = (cache[key] for key in ("f", "i", "cbar", "o", "tanh_c"))
    dC = dc + dh * o * (1 - np.square(tanh_c))
    da = {"f": dC * cache["c_prev"] * f * (1 - f), "i": dC * cbar * i * (1 - i),
          "c": dC * i * (1 - np.square(cbar)), "o": dh * tanh_c * o * (1 - o)}
    grads = {}
    for g, a in da.items():
        grads["dW" + g + "h"] = np.einsum("kn,jn->kj", a, cache["h_prev"])
        grads["dW" + g + "x"] = np.einsum("kn,jn->kj", a, cache["x"])
        grads["db" + g] = np.einsum("kn->k", a)[:, None]
    dx = sum(np.einsum("kj,kn->jn", P["W" + g + "x"], a) for g, a in da.items())
    dh_prev = sum(np.einsum("kj,kn->jn", P["W" + g + "h"], a) for g, a in da.items())
    return dx, dh_prev, np.multiply(dC, f), grads
'''),
    (LIBRARY, "to_torch_lstm", '''def to_torch_lstm(params):
    # New float64 Parameters put in place of the module's own.
    H, D = params["Wfx"].shape
    lstm = torch.nn.LSTM(D, H, dtype=torch.float64)
    stack = lambda prefix, suffix: torch.from_numpy(np.concatenate(
        [params[prefix + g + suffix] for g in "ifco"]).astype(np.float64))
    lstm.weight_ih_l0 = torch.nn.Parameter(stack("W", "x"))
    lstm.weight_hh_l0 = torch.nn.Parameter(stack("W", "h"))
    lstm.bias_ih_l0 = torch.nn.Parameter(stack("b", "").reshape(4 * H))
    lstm.bias_hh_l0 = torch.nn.Parameter(torch.zeros(4 * H, dtype=torch.float64))
    return lstm
'''),
]
