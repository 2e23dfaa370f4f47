'''Assignment 4 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade eighteen alternatives.
'''

ASSIGNMENT = "a4_reading_params"

LOOPS = "alt_loops"            # Python loops, np.outer, sorted(...) with a key
NUMPY = "alt_numpy"            # other numpy: np.isin, np.add.at, einsum, np.lexsort
PYTHON = "alt_python"          # sets, boolean masks, row-vector layout, closed forms

ALTERNATIVES = [
    (LOOPS, "touched_columns", '''def touched_columns(inputs, vocab_size):
    mask = [False] * vocab_size
    for ix in inputs:
        mask[int(ix)] = True
    return np.array(mask, dtype=bool)
'''),
    (LOOPS, "wxh_gradient", '''def wxh_gradient(inputs, dhraws, vocab_size):
    # The formula as written: sum_t dhraws[:, t] x_t^T, with an explicit one-hot x_t.
    dWxh = np.zeros((dhraws.shape[0], vocab_size))
    for t in range(len(inputs)):
        x = np.zeros(vocab_size)
        x[inputs[t]] = 1.0
        dWxh = dWxh + np.outer(dhraws[:, t], x)
    return dWxh
'''),
    (LOOPS, "wxh_gradient_columns", '''def wxh_gradient_columns(dWxh):
    H, V = np.shape(dWxh)
    columns = []
    for c in range(V):
        for i in range(H):
            if dWxh[i, c] != 0:
                columns.append(c)
                break
    return np.array(columns, dtype=int)
'''),
    (LOOPS, "count_parameters", '''def count_parameters(vocab_size, hidden_size):
    shapes = {"Wxh": (hidden_size, vocab_size), "Whh": (hidden_size, hidden_size),
              "Why": (vocab_size, hidden_size), "bh": (hidden_size, 1), "by": (vocab_size, 1)}
    counts = {}
    total = 0
    for name, (rows, cols) in shapes.items():
        counts[name] = rows * cols
        total += rows * cols
    counts["total"] = total
    return counts
'''),
    (LOOPS, "hidden_activations", '''def hidden_activations(params, text_indices, h0):
    # A one-hot product for the input, the columns collected in a list and stacked at the end.
    Wxh, Whh, bh = params["Wxh"], params["Whh"], params["bh"]
    V = Wxh.shape[1]
    h = h0
    columns = []
    for ix in text_indices:
        x = np.zeros((V, 1))
        x[ix, 0] = 1.0
        h = np.tanh(Wxh @ x + Whh @ h + bh)
        columns.append(h)
    return np.hstack(columns)
'''),
    (LOOPS, "nearest_characters", '''def nearest_characters(Wxh, vocab, ch, k):
    # Cosine of unit columns; sorted() with the key (-similarity, index) breaks ties by index.
    unit = Wxh / np.linalg.norm(Wxh, axis=0)
    i = vocab.stoi[ch]
    sims = {}
    for j in range(unit.shape[1]):
        if j != i:
            sims[j] = float(np.dot(unit[:, j], unit[:, i]))
    order = sorted(sims, key=lambda j: (-sims[j], j))
    return [vocab.chars[j] for j in order[:k]]
'''),
    (NUMPY, "touched_columns", '''def touched_columns(inputs, vocab_size):
    return np.isin(np.arange(vocab_size), np.asarray(inputs))
'''),
    (NUMPY, "wxh_gradient", '''def wxh_gradient(inputs, dhraws, vocab_size):
    # Unbuffered scatter-add: repeated indices accumulate.
    dWxh = np.zeros((dhraws.shape[0], vocab_size))
    np.add.at(dWxh.T, np.asarray(inputs, dtype=int), dhraws.T)
    return dWxh
'''),
    (NUMPY, "wxh_gradient_columns", '''def wxh_gradient_columns(dWxh):
    return np.nonzero(np.count_nonzero(dWxh, axis=0))[0]
'''),
    (NUMPY, "count_parameters", '''import math

def count_parameters(vocab_size, hidden_size):
    V, H = vocab_size, hidden_size
    shapes = dict(Wxh=(H, V), Whh=(H, H), Why=(V, H), bh=(H, 1), by=(V, 1))
    counts = {name: math.prod(shape) for name, shape in shapes.items()}
    return {**counts, "total": math.prod((H, V)) * 2 + math.prod((H, H)) + H + V}
'''),
    (NUMPY, "hidden_activations", '''def hidden_activations(params, text_indices, h0):
    # Every input column and the bias first, as one (H, T) matrix; only the recurrence in the loop.
    idx = np.asarray(text_indices, dtype=int)
    inputs = np.take(params["Wxh"], idx, axis=1) + params["bh"]
    hs = np.empty(inputs.shape)
    h = np.ravel(h0)
    for t in range(idx.size):
        h = np.tanh(inputs[:, t] + np.einsum("ij,j->i", params["Whh"], h))
        hs[:, t] = h
    return hs
'''),
    (NUMPY, "nearest_characters", '''def nearest_characters(Wxh, vocab, ch, k):
    # np.lexsort: the last key first (decreasing similarity), then the index.
    W = np.array(Wxh, dtype=float)
    W /= np.sqrt(np.einsum("hv,hv->v", W, W))
    i = vocab.stoi[ch]
    sims = np.einsum("hv,h->v", W, W[:, i])
    V = W.shape[1]
    order = np.lexsort((np.arange(V), -sims))
    order = order[order != i]
    return [vocab.chars[int(j)] for j in order[:max(k, 0)]]
'''),
    (PYTHON, "touched_columns", '''def touched_columns(inputs, vocab_size):
    seen = {int(ix) for ix in inputs}
    return np.array([c in seen for c in range(vocab_size)])
'''),
    (PYTHON, "wxh_gradient", '''def wxh_gradient(inputs, dhraws, vocab_size):
    # One column per character: the sum of the steps whose input it is (a boolean mask).
    inputs = np.asarray(inputs)
    dWxh = np.zeros((dhraws.shape[0], vocab_size))
    for c in np.unique(inputs):
        dWxh[:, c] = dhraws[:, inputs == c].sum(axis=1)
    return dWxh
'''),
    (PYTHON, "wxh_gradient_columns", '''def wxh_gradient_columns(dWxh):
    rows, cols = np.nonzero(dWxh)
    return np.unique(cols)
'''),
    (PYTHON, "count_parameters", '''def count_parameters(vocab_size, hidden_size):
    V, H = int(vocab_size), int(hidden_size)
    return {"Wxh": H * V, "Whh": H ** 2, "Why": V * H, "bh": H, "by": V,
            "total": 2 * H * V + H ** 2 + H + V}
'''),
    (PYTHON, "hidden_activations", '''def hidden_activations(params, text_indices, h0):
    # Row vectors: h (1, H) times Whh^T, rows of Wxh^T as inputs; transposed at the end.
    WxhT, WhhT, bhT = params["Wxh"].T, params["Whh"].T, params["bh"].T
    h = h0.T.copy()
    rows = np.zeros((len(text_indices), h.shape[1]))
    for t, ix in enumerate(text_indices):
        h = np.tanh(WxhT[[ix], :] + h @ WhhT + bhT)
        rows[t] = h[0]
    return rows.T
'''),
    (PYTHON, "nearest_characters", '''def nearest_characters(Wxh, vocab, ch, k):
    # The others in index order, then a stable sort by decreasing similarity (reverse=True keeps
    # equal items in their original order).
    W = np.asarray(Wxh)
    unit = W / np.linalg.norm(W, axis=0, keepdims=True)
    i = vocab.stoi[ch]
    sims = unit.T @ unit[:, i]
    others = [j for j in range(len(vocab.chars)) if j != i]
    ranked = sorted(others, key=lambda j: sims[j], reverse=True)
    return [vocab.chars[j] for j in ranked][:k]
'''),
]
