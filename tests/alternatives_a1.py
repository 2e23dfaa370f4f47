'''Assignment 1 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade eighteen alternatives.

HARD_CODERS: submissions that return the visible tests' expected values for the
visible inputs (read from helpers/expected, which students have) and garbage
otherwise; they pass every visible test and must lose every hidden one.
'''
from submissions import Rewrite

ASSIGNMENT = "a1_rnn_forward"

LOOPS = "alt_loops"            # Python loops where the solution is vectorised
NUMPY = "alt_numpy"            # other numpy: einsum, log-sum-exp, other draw order, Gumbel-max
LIBRARY = "alt_library"        # library calls and other data layouts

ALTERNATIVES = [
    (LOOPS, "one_hot", '''def one_hot(ix, vocab_size):
    return np.array([[1.0 if i == ix else 0.0] for i in range(vocab_size)])
'''),
    (LOOPS, "softmax", '''import math

def softmax(y):
    values = [float(v) for v in np.ravel(y)]
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return np.array([[e / total] for e in exps])
'''),
    (LOOPS, "rnn_step_forward", '''import math

def rnn_step_forward(x, h_prev, params):
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    hidden, vocab = Wxh.shape
    h = np.zeros((hidden, 1))
    for i in range(hidden):
        h[i, 0] = math.tanh(Wxh[i] @ x[:, 0] + Whh[i] @ h_prev[:, 0] + params["bh"][i, 0])
    y = np.zeros((vocab, 1))
    for k in range(vocab):
        y[k, 0] = Why[k] @ h[:, 0] + params["by"][k, 0]
    return h, y, softmax(y)
'''),
    (LOOPS, "rnn_forward", '''import math

def rnn_forward(inputs, targets, h_prev, params):
    vocab_size = params["Why"].shape[0]
    cache = {"xs": {}, "hs": {-1: h_prev.copy()}, "ps": {}}
    h, loss, t = h_prev, 0.0, 0
    while t < len(inputs):
        x = one_hot(inputs[t], vocab_size)
        h, _, p = rnn_step_forward(x, h, params)
        cache["xs"][t], cache["hs"][t], cache["ps"][t] = x, h, p
        loss += -math.log(p[targets[t], 0])
        t += 1
    return loss, cache
'''),
    (LOOPS, "init_params", '''def init_params(vocab_size, hidden_size, rng, scale=0.01):
    params = {}
    for name, shape in (("Wxh", (hidden_size, vocab_size)), ("Whh", (hidden_size, hidden_size)),
                        ("Why", (vocab_size, hidden_size))):
        w = np.empty(shape)
        for index in np.ndindex(*shape):
            w[index] = rng.normal(0.0, scale)
        params[name] = w
    params["bh"] = np.zeros((hidden_size, 1))
    params["by"] = np.zeros((vocab_size, 1))
    return params
'''),
    (LOOPS, "sample", '''def sample(params, h, seed_ix, n, rng):
    vocab_size = params["Why"].shape[0]
    out, ix = [], seed_ix
    for _ in range(n):
        h, _, p = rnn_step_forward(one_hot(ix, vocab_size), h, params)
        u, acc, ix = rng.random(), 0.0, vocab_size - 1
        for k in range(vocab_size):        # inverse of the cumulative distribution
            acc += p[k, 0]
            if u < acc:
                ix = k
                break
        out.append(ix)
    return out
'''),
    (NUMPY, "one_hot", '''def one_hot(ix, vocab_size):
    return np.eye(vocab_size)[:, [ix]]
'''),
    (NUMPY, "softmax", '''def softmax(y):
    shifted = y - y.max()
    return np.exp(shifted - np.log(np.exp(shifted).sum()))
'''),
    (NUMPY, "rnn_step_forward", '''def rnn_step_forward(x, h_prev, params):
    a = np.einsum("ij,jk->ik", params["Wxh"], x) + np.einsum("ij,jk->ik", params["Whh"], h_prev)
    h = np.tanh(a + params["bh"])
    y = np.einsum("ij,jk->ik", params["Why"], h) + params["by"]
    return h, y, softmax(y)
'''),
    (NUMPY, "rnn_forward", '''def rnn_forward(inputs, targets, h_prev, params):
    # The loss from the logits (log-sum-exp), and the logits kept in the cache too.
    xs, hs, ys, ps = {}, {-1: np.array(h_prev, copy=True)}, {}, {}
    loss = 0.0
    for t, (i, target) in enumerate(zip(inputs, targets)):
        xs[t] = one_hot(i, params["Wxh"].shape[1])
        hs[t], ys[t], ps[t] = rnn_step_forward(xs[t], hs[t - 1], params)
        top = ys[t].max()
        loss += float(top + np.log(np.exp(ys[t] - top).sum()) - ys[t][target, 0])
    return loss, {"xs": xs, "hs": hs, "ys": ys, "ps": ps}
'''),
    (NUMPY, "init_params", '''def init_params(vocab_size, hidden_size, rng, scale=0.01):
    # Other draw order, standard normals scaled.
    Why = scale * rng.standard_normal((vocab_size, hidden_size))
    Whh = scale * rng.standard_normal((hidden_size, hidden_size))
    Wxh = scale * rng.standard_normal((hidden_size, vocab_size))
    return dict(Wxh=Wxh, Whh=Whh, Why=Why, bh=np.zeros((hidden_size, 1), dtype=np.float64),
                by=np.zeros((vocab_size, 1), dtype=np.float64))
'''),
    (NUMPY, "sample", '''def sample(params, h, seed_ix, n, rng):
    # The Gumbel-max trick: argmax of log p plus independent Gumbel noise is a draw from p.
    vocab_size = params["Why"].shape[0]
    x, out = one_hot(seed_ix, vocab_size), []
    for _ in range(n):
        h, _, p = rnn_step_forward(x, h, params)
        ix = int(np.argmax(np.log(p.ravel()) + rng.gumbel(size=vocab_size)))
        out.append(ix)
        x = one_hot(ix, vocab_size)
    return out
'''),
    (LIBRARY, "one_hot", '''def one_hot(ix, vocab_size):
    return (np.arange(vocab_size) == ix).astype(np.float64).reshape(vocab_size, 1)
'''),
    (LIBRARY, "softmax", '''from scipy.special import softmax as scipy_softmax

def softmax(y):
    return scipy_softmax(y, axis=0)
'''),
    (LIBRARY, "rnn_step_forward", '''def rnn_step_forward(x, h_prev, params):
    # x is one-hot: Wxh @ x is the column of Wxh at the character's index.
    column = params["Wxh"][:, [int(np.argmax(x))]]
    h = np.tanh(column + params["Whh"].dot(h_prev) + params["bh"])
    y = params["Why"].dot(h) + params["by"]
    return h, y, softmax(y)
'''),
    (LIBRARY, "rnn_forward", '''def rnn_forward(inputs, targets, h_prev, params):
    # Lists first, the cache's dicts at the end.
    vocab_size = params["Why"].shape[0]
    xs, hs, ps, h = [], [], [], h_prev
    for i in inputs:
        x = one_hot(i, vocab_size)
        h, _, p = rnn_step_forward(x, h, params)
        xs.append(x)
        hs.append(h)
        ps.append(p)
    loss = -np.sum(np.log([p[target, 0] for p, target in zip(ps, targets)]))
    cache = {"xs": dict(enumerate(xs)), "hs": {-1: h_prev.copy(), **dict(enumerate(hs))}, "ps": dict(enumerate(ps))}
    return float(loss), cache
'''),
    (LIBRARY, "init_params", '''def init_params(vocab_size, hidden_size, rng, scale=0.01):
    shapes = {"Wxh": (hidden_size, vocab_size), "Whh": (hidden_size, hidden_size), "Why": (vocab_size, hidden_size)}
    params = {name: rng.normal(loc=0.0, scale=scale, size=shape) for name, shape in shapes.items()}
    params.update(bh=np.zeros((hidden_size, 1)), by=np.zeros((vocab_size, 1)))
    return params
'''),
    (LIBRARY, "sample", '''def sample(params, h, seed_ix, n, rng):
    vocab_size = params["Why"].shape[0]
    indices = np.arange(vocab_size)
    out = []
    while len(out) < n:
        h, _, p = rnn_step_forward(one_hot(out[-1] if out else seed_ix, vocab_size), h, params)
        out.append(int(rng.choice(indices, p=p[:, 0])))
    return out
'''),
]

HARD_CODERS = [
    Rewrite("hard_coder", (
        ("one_hot", '''def one_hot(ix, vocab_size):
    x = np.zeros((vocab_size, 1))
    if (int(ix), vocab_size) == (2, 5) or vocab_size == 65:   # the visible cases
        x[int(ix), 0] = 1.0
    return x
'''),
        ("softmax", '''from helpers.checks import expected as visible

def softmax(y):
    if np.shape(y) == (3, 1):
        return visible("a1.softmax.small")
    return np.full(np.shape(y), 1.0 / np.size(y))
'''),
        ("rnn_step_forward", '''def rnn_step_forward(x, h_prev, params):
    if np.shape(h_prev) == (3, 1) and np.shape(x) == (4, 1):
        return visible("a1.step.h"), visible("a1.step.y"), visible("a1.step.p")
    hidden, vocab = np.shape(params["Wxh"])
    return np.zeros((hidden, 1)), np.zeros((vocab, 1)), np.full((vocab, 1), 1.0 / vocab)
'''),
        ("rnn_forward", '''def rnn_forward(inputs, targets, h_prev, params):
    if list(inputs) == [0, 1, 2, 3, 1]:
        return visible("a1.forward.loss"), {"xs": {}, "hs": {-1: np.copy(h_prev), 4: visible("a1.forward.h_last")},
                                            "ps": {0: visible("a1.forward.p0")}}
    return 0.0, {"xs": {}, "hs": {-1: np.copy(h_prev)}, "ps": {}}
'''),
        ("init_params", '''def init_params(vocab_size, hidden_size, rng, scale=0.01):
    fixed = np.random.default_rng(0)   # the visible test's seed, whatever rng is given
    return {"Wxh": fixed.normal(0.0, scale, (hidden_size, vocab_size)),
            "Whh": fixed.normal(0.0, scale, (hidden_size, hidden_size)),
            "Why": fixed.normal(0.0, scale, (vocab_size, hidden_size)),
            "bh": np.zeros((hidden_size, 1)), "by": np.zeros((vocab_size, 1))}
'''),
        ("sample", '''def sample(params, h, seed_ix, n, rng):
    if n == 200:
        return [k % 65 for k in range(200)]
    return [0] * n
'''),
    ), loses=("test_one_hot", "test_softmax", "test_rnn_step_forward", "test_rnn_forward", "test_init_params",
              "test_sample"), why="visible answers hard-coded"),
]
