'''Assignment 2 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade fifteen alternatives.
'''

ASSIGNMENT = "a2_rnn_backprop"

LOOPS = "alt_loops"            # Python loops, np.outer, one-hot columns, masks
NUMPY = "alt_numpy"            # other numpy: einsum, all steps as one matrix, ufuncs with out=
MINCHAR = "alt_minchar"        # min-char-rnn's style inlined, dicts, slice assignment

ALTERNATIVES = [
    (LOOPS, "rnn_backward", '''def rnn_backward(targets, cache, params):
    # 1-D vectors, np.outer, loops over the vocabulary and the hidden units, range(T - 1, -1, -1).
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    H, V = Wxh.shape
    dWxh, dWhh, dWhy = np.zeros((H, V)), np.zeros((H, H)), np.zeros((V, H))
    dbh, dby = np.zeros((H, 1)), np.zeros((V, 1))
    dh_next = np.zeros(H)
    for t in range(len(targets) - 1, -1, -1):
        p, h, h_before = cache["ps"][t][:, 0], cache["hs"][t][:, 0], cache["hs"][t - 1][:, 0]
        dy = np.array([p[k] - (1.0 if k == targets[t] else 0.0) for k in range(V)])
        dWhy += np.outer(dy, h)
        dby[:, 0] += dy
        dh = Why.T @ dy + dh_next
        dz = np.array([(1.0 - h[i] * h[i]) * dh[i] for i in range(H)])
        dbh[:, 0] += dz
        ix = int(np.argmax(cache["xs"][t][:, 0]))   # x_t is one-hot: dz x_t^T is dz in column ix
        dWxh[:, ix] += dz
        dWhh += np.outer(dz, h_before)
        dh_next = dz @ Whh                          # the same as Whh.T @ dz
    return {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
'''),
    (LOOPS, "loss_fun", '''import math

def loss_fun(inputs, targets, h_prev, params):
    # Its own forward loop (on rnn_step_forward), then rnn_backward on the cache built here.
    vocab_size = params["Why"].shape[0]
    xs, hs, ps = {}, {-1: h_prev.copy()}, {}
    loss, h = 0.0, h_prev
    for t, (ix, target) in enumerate(zip(inputs, targets)):
        x = np.zeros((vocab_size, 1))
        x[ix, 0] = 1.0
        h, _, p = rnn_step_forward(x, h, params)
        xs[t], hs[t], ps[t] = x, h, p
        loss -= math.log(p[target, 0])
    grads = rnn_backward(targets, {"xs": xs, "hs": hs, "ps": ps}, params)
    return loss, grads, h
'''),
    (LOOPS, "clip_gradients", '''def clip_gradients(grads, limit):
    for name in grads:
        g = grads[name]
        g[g > limit] = limit
        g[g < -limit] = -limit
'''),
    (LOOPS, "clip_by_global_norm", '''import math

def clip_by_global_norm(grads, max_norm):
    total = 0.0
    for g in grads.values():
        for value in g.flat:
            total += float(value) ** 2
    norm = math.sqrt(total)
    if norm > max_norm:
        for name in grads:
            grads[name] *= max_norm / norm
    return norm
'''),
    (LOOPS, "adagrad_update", '''def adagrad_update(params, grads, memory, learning_rate):
    for name in memory:
        g = grads["d" + name]
        memory[name] += g ** 2
        params[name] -= learning_rate * g / np.sqrt(memory[name] + 1e-8)
'''),
    (NUMPY, "rnn_backward", '''def rnn_backward(targets, cache, params):
    # The steps as the columns of matrices: the recurrence only for dz, then every parameter
    # gradient as one product over all steps (einsum).
    xs, hs, ps = cache["xs"], cache["hs"], cache["ps"]
    T, V = len(targets), params["Why"].shape[0]
    X = np.hstack([xs[t] for t in range(T)])                            # (V, T)
    Hs = np.hstack([hs[t] for t in range(T)])                           # (H, T)
    H_before = np.hstack([hs[t - 1] for t in range(T)])                 # (H, T)
    DY = np.hstack([ps[t] for t in range(T)]) - np.eye(V)[:, targets]   # (V, T), a new array
    DH_out = np.einsum("vh,vt->ht", params["Why"], DY)
    DZ = np.empty_like(Hs)
    carry = np.zeros(Hs.shape[0])
    for t in range(T - 1, -1, -1):
        DZ[:, t] = (1.0 - Hs[:, t] ** 2) * (DH_out[:, t] + carry)
        carry = np.einsum("ij,i->j", params["Whh"], DZ[:, t])
    return {"dWxh": np.einsum("ht,vt->hv", DZ, X), "dWhh": np.einsum("it,jt->ij", DZ, H_before),
            "dWhy": np.einsum("vt,ht->vh", DY, Hs), "dbh": DZ.sum(axis=1, keepdims=True),
            "dby": DY.sum(axis=1, keepdims=True)}
'''),
    (NUMPY, "loss_fun", '''def loss_fun(inputs, targets, h_prev, params):
    # Forward pass inlined, the loss from the logits (log-sum-exp), the last state by the largest key.
    Wxh, Whh, Why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    eye = np.eye(Why.shape[0])
    cache = {"xs": {}, "hs": {-1: np.array(h_prev, copy=True)}, "ps": {}}
    losses = []
    for t, ix in enumerate(inputs):
        x = eye[:, [ix]]
        h = np.tanh(np.einsum("hv,vk->hk", Wxh, x) + Whh @ cache["hs"][t - 1] + bh)
        y = Why @ h + by
        log_p = y - (y.max() + np.log(np.exp(y - y.max()).sum()))
        cache["xs"][t], cache["hs"][t], cache["ps"][t] = x, h, np.exp(log_p)
        losses.append(-log_p[targets[t], 0])
    grads = rnn_backward(targets, cache, params)
    return float(np.sum(losses)), grads, cache["hs"][max(cache["hs"])]
'''),
    (NUMPY, "clip_gradients", '''def clip_gradients(grads, limit):
    for g in grads.values():
        np.minimum(g, limit, out=g)
        np.maximum(g, -limit, out=g)
'''),
    (NUMPY, "clip_by_global_norm", '''def clip_by_global_norm(grads, max_norm):
    norm = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()])))
    if norm > max_norm:
        for g in grads.values():
            np.multiply(g, max_norm / norm, out=g)
    return norm
'''),
    (NUMPY, "adagrad_update", '''def adagrad_update(params, grads, memory, learning_rate):
    for name, p in params.items():
        g, mem = grads["d" + name], memory[name]
        np.add(mem, np.square(g), out=mem)
        np.subtract(p, learning_rate * g * (mem + 1e-8) ** -0.5, out=p)
'''),
    (MINCHAR, "rnn_backward", '''def rnn_backward(targets, cache, params):
    # Two passes: the dz of every step backwards through time first, then the parameter
    # gradients accumulated forwards, t = 0 .. T-1, in a dict.
    xs, hs, ps = cache["xs"], cache["hs"], cache["ps"]
    T = len(targets)
    dys, dzs = {}, {}
    dh_next = 0.0
    for t in reversed(range(T)):
        dy = ps[t].copy()
        dy[targets[t], 0] -= 1.0
        dys[t] = dy
        dzs[t] = (1.0 - hs[t] ** 2) * (np.dot(params["Why"].T, dy) + dh_next)
        dh_next = np.dot(params["Whh"].T, dzs[t])
    grads = {"d" + name: np.zeros_like(params[name]) for name in ("Wxh", "Whh", "Why", "bh", "by")}
    for t in range(T):
        grads["dWhy"] += np.dot(dys[t], hs[t].T)
        grads["dby"] += dys[t]
        grads["dWxh"] += np.dot(dzs[t], xs[t].T)
        grads["dWhh"] += np.dot(dzs[t], hs[t - 1].T)
        grads["dbh"] += dzs[t]
    return grads
'''),
    (MINCHAR, "loss_fun", '''def loss_fun(inputs, targets, h_prev, params):
    # min-char-rnn's lossFun copied whole (forward and backward inline), without the clipping.
    Wxh, Whh, Why, bh, by = params["Wxh"], params["Whh"], params["Why"], params["bh"], params["by"]
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(h_prev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        e = np.exp(ys[t] - np.max(ys[t]))
        ps[t] = e / np.sum(e)
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    grads = {"dWxh": dWxh, "dWhh": dWhh, "dWhy": dWhy, "dbh": dbh, "dby": dby}
    return float(loss), grads, hs[len(inputs) - 1]
'''),
    (MINCHAR, "clip_gradients", '''def clip_gradients(grads, limit):
    for name in grads:
        grads[name][...] = np.clip(grads[name], -limit, limit)   # a new array, copied back in
'''),
    (MINCHAR, "clip_by_global_norm", '''def clip_by_global_norm(grads, max_norm):
    # As torch measures it: the norm of the per-array norms.
    norm = float(np.linalg.norm([np.linalg.norm(g) for g in grads.values()]))
    if norm > max_norm:
        for name in grads:
            grads[name][...] = grads[name] * (max_norm / norm)
    return norm
'''),
    (MINCHAR, "adagrad_update", '''def adagrad_update(params, grads, memory, learning_rate):
    for name in params:
        g = grads["d" + name]
        memory[name][:] = memory[name] + g * g
        params[name][:] = params[name] - learning_rate * g / np.sqrt(memory[name] + 1e-8)
'''),
]
