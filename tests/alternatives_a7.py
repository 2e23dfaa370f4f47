'''Assignment 7 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade twelve alternatives. Every one updates the
parameters in place, never writes into the gradients, keeps its memory in the state dict
it is given (state[name] for momentum and AdaGrad, as their docstrings fix) and puts eps
where torch.optim does; they differ in how they write it.
'''

ASSIGNMENT = "a7_optimisers"

UFUNCS = "alt_ufuncs"          # numpy ufuncs with out=, the loop over the gradients' keys
TORCHLIKE = "alt_torchlike"    # torch.optim's own formulation: p += -lr * ..., lerp, per-parameter state
EXPLICIT = "alt_explicit"      # p[...] = p - ..., sorted names, Adam's "efficient" form

ALTERNATIVES = [
    # sgd_step
    (UFUNCS, "sgd_step", '''def sgd_step(params, grads, lr):
    for name in grads:
        p = params[name]
        np.subtract(p, np.multiply(lr, grads[name]), out=p)
'''),
    (TORCHLIKE, "sgd_step", '''def sgd_step(params, grads, lr):
    # torch: param.add_(grad, alpha=-lr)
    for name, g in grads.items():
        params[name] += -lr * g
'''),
    (EXPLICIT, "sgd_step", '''def sgd_step(params, grads, lr):
    for name in sorted(params):
        params[name][...] = params[name] - lr * grads[name]
'''),
    # momentum_step
    (UFUNCS, "momentum_step", '''def momentum_step(params, grads, state, lr, momentum=0.9):
    for name in grads:
        p, g = params[name], grads[name]
        buf = state.get(name)
        if buf is None:
            buf = state[name] = np.copy(g)
        else:
            np.multiply(buf, momentum, out=buf)
            np.add(buf, g, out=buf)
        np.subtract(p, lr * buf, out=p)
'''),
    (TORCHLIKE, "momentum_step", '''def momentum_step(params, grads, state, lr, momentum=0.9):
    # A buffer of zeros before the first step: momentum * 0 + g is exactly a copy of g.
    for name, p in params.items():
        buf = state.setdefault(name, np.zeros_like(p))
        buf[...] = momentum * buf + grads[name]
        p += -lr * buf
'''),
    (EXPLICIT, "momentum_step", '''def momentum_step(params, grads, state, lr, momentum=0.9):
    for name in sorted(grads, reverse=True):
        g = grads[name]
        if name in state:
            np.copyto(state[name], momentum * state[name] + g)
        else:
            state[name] = g.copy()
        params[name][...] = params[name] - lr * state[name]
'''),
    # adagrad_step
    (UFUNCS, "adagrad_step", '''def adagrad_step(params, grads, state, lr, eps=1e-10):
    for name in grads:
        p, g = params[name], grads[name]
        s = state.setdefault(name, np.zeros_like(p))
        np.add(s, np.square(g), out=s)
        denom = np.sqrt(s)
        np.add(denom, eps, out=denom)
        np.subtract(p, lr * g / denom, out=p)
'''),
    (TORCHLIKE, "adagrad_step", '''def adagrad_step(params, grads, state, lr, eps=1e-10):
    for name, p in params.items():
        g = grads[name]
        if name in state:
            state[name] += g * g
        else:
            state[name] = g * g          # 0 + g * g: a new array, not the caller's
        std = np.sqrt(state[name]) + eps
        p += -lr * (g / std)
'''),
    (EXPLICIT, "adagrad_step", '''def adagrad_step(params, grads, state, lr, eps=1e-10):
    for name, g in grads.items():
        if name not in state:
            state[name] = np.zeros(params[name].shape, dtype=params[name].dtype)
        s = state[name]
        s[...] = s + g ** 2
        params[name][...] = params[name] - lr * g / (s ** 0.5 + eps)
'''),
    # adam_step
    (UFUNCS, "adam_step", '''def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    # One counter for all, the moments under tuple keys ("m", name) and ("v", name).
    beta1, beta2 = betas
    t = state.get("t", 0) + 1
    state["t"] = t
    for name in grads:
        p, g = params[name], grads[name]
        if ("m", name) not in state:
            state["m", name] = np.zeros_like(p)
            state["v", name] = np.zeros_like(p)
        m, v = state["m", name], state["v", name]
        np.multiply(m, beta1, out=m)
        np.add(m, np.multiply(1 - beta1, g), out=m)
        np.multiply(v, beta2, out=v)
        np.add(v, (1 - beta2) * np.square(g), out=v)
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        np.subtract(p, lr * m_hat / (np.sqrt(v_hat) + eps), out=p)
'''),
    (TORCHLIKE, "adam_step", '''import math

def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    # As torch.optim.Adam: a step counter per parameter, m by lerp, the bias corrections
    # applied as step size and denominator.
    beta1, beta2 = betas
    for name, p in params.items():
        g = grads[name]
        if name not in state:
            state[name] = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        st = state[name]
        st["step"] += 1
        m, v = st["exp_avg"], st["exp_avg_sq"]
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** st["step"]
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** st["step"])
        step_size = lr / bias_correction1
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p += -step_size * (m / denom)
'''),
    (EXPLICIT, "adam_step", '''def adam_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8):
    # the paper's "efficient" form, with eps scaled by sqrt(1 - beta2**t) so that it is
    # still added to sqrt(v_hat), as in PyTorch.
    beta1, beta2 = betas
    if "step" not in state:
        state.update(step=0, m={}, v={})
    state["step"] += 1
    t = state["step"]
    correction2 = np.sqrt(1.0 - beta2 ** t)
    alpha = lr * correction2 / (1.0 - beta1 ** t)
    eps_hat = eps * correction2
    for name in sorted(params):
        g = grads[name]
        if name not in state["m"]:
            state["m"][name] = np.zeros_like(params[name])
            state["v"][name] = np.zeros_like(params[name])
        m, v = state["m"][name], state["v"][name]
        m[...] = beta1 * m + (1.0 - beta1) * g
        v[...] = beta2 * v + (1.0 - beta2) * g ** 2
        params[name][...] = params[name] - alpha * m / (np.sqrt(v) + eps_hat)
'''),
]
