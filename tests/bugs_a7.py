"""Realistic bugs in assignment 7 (see catalogue.py)."""
from submissions import Mutation

ASSIGNMENT = "a7_optimisers"

_ADAGRAD_UPDATE = "        state[name] += g * g\n        p -= lr * g / (np.sqrt(state[name]) + eps)"
_MOMENTUM_BODY = ("            state[name] = g.copy()\n        else:\n            state[name] *= momentum\n"
                  "            state[name] += g\n        p -= lr * state[name]")
_ADAM_INIT = ('    if not state:\n        state["step"] = 0\n'
              '        state["m"] = {name: np.zeros_like(p) for name, p in params.items()}\n'
              '        state["v"] = {name: np.zeros_like(p) for name, p in params.items()}')

MUTATIONS = [
    # sgd_step
    Mutation("sgd_ascent", "sgd_step", "p -= lr * grads[name]", "p += lr * grads[name]",
             loses=("test_sgd_step",), why="steps up the gradient instead of down"),
    Mutation("sgd_new_arrays", "sgd_step", "        p -= lr * grads[name]",
             "        params[name] = p - lr * grads[name]",
             loses=("test_sgd_step",), why="puts new arrays into the dict: the caller's arrays never change"),
    Mutation("sgd_zip_by_order", "sgd_step", "for name, p in params.items():\n        p -= lr * grads[name]",
             "for p, g in zip(params.values(), grads.values()):\n        p -= lr * g",
             loses=("test_sgd_step",), why="pairs parameters and gradients by dict order, not by key"),
    Mutation("sgd_scales_grads", "sgd_step", "        p -= lr * grads[name]",
             "        g = grads[name]\n        g *= lr\n        p -= g",
             loses=("test_sgd_step",), why="scales the caller's gradient arrays in place"),
    # momentum_step
    Mutation("momentum_dampening", "momentum_step", "            state[name] += g",
             "            state[name] += (1 - momentum) * g",
             loses=("test_momentum_step",), why="dampening = momentum (an average of the gradients), not torch's default"),
    Mutation("momentum_nesterov", "momentum_step", "p -= lr * state[name]", "p -= lr * (g + momentum * state[name])",
             loses=("test_momentum_step",), why="Nesterov's update where plain momentum was asked"),
    Mutation("momentum_lr_twice", "momentum_step", "            state[name] += g", "            state[name] += lr * g",
             loses=("test_momentum_step",), why="the learning rate multiplies both the gradient and the buffer"),
    Mutation("momentum_report_formula", "momentum_step", _MOMENTUM_BODY,
             _MOMENTUM_BODY.replace("g.copy()", "lr * g").replace("+= g", "+= lr * g")
             .replace("p -= lr * state[name]", "p -= state[name]"),
             loses=("test_momentum_step",),
             why="the report's v = mu v + lr g: the same while lr is constant, wrong under a schedule"),
    Mutation("momentum_aliases_grad", "momentum_step", "state[name] = g.copy()", "state[name] = g",
             loses=("test_momentum_step",), why="the buffer is the caller's gradient array itself"),
    # adagrad_step
    Mutation("adagrad_eps_inside_sqrt", "adagrad_step", "(np.sqrt(state[name]) + eps)", "np.sqrt(state[name] + eps)",
             loses=("test_adagrad_step",), why="min-char-rnn's convention: eps inside the square root"),
    Mutation("adagrad_no_eps", "adagrad_step", "(np.sqrt(state[name]) + eps)", "np.sqrt(state[name])",
             loses=("test_adagrad_step",), why="the report's formula: 0/0 = nan for a weight with zero gradients"),
    Mutation("adagrad_accumulate_after", "adagrad_step", _ADAGRAD_UPDATE,
             "        p -= lr * g / (np.sqrt(state[name]) + eps)\n        state[name] += g * g",
             loses=("test_adagrad_step",), why="divides by the sum before adding the current gradient"),
    Mutation("adagrad_sum_not_kept", "adagrad_step", _ADAGRAD_UPDATE,
             "        s = state[name] + g * g\n        p -= lr * g / (np.sqrt(s) + eps)",
             loses=("test_adagrad_step",), why="the new sum is never stored: every step is a first step"),
    # adam_step
    Mutation("adam_no_bias_correction", "adam_step", "p -= lr * (m / bias1) / (np.sqrt(v / bias2) + eps)",
             "p -= lr * m / (np.sqrt(v) + eps)",
             loses=("test_adam_step",), why="no bias correction: early steps several times too large"),
    Mutation("adam_beta2_first_moment", "adam_step", "        m *= beta1\n        m += (1 - beta1) * g",
             "        m *= beta2\n        m += (1 - beta2) * g",
             loses=("test_adam_step",), why="beta2 used for the first moment"),
    Mutation("adam_eps_inside_sqrt", "adam_step", "(np.sqrt(v / bias2) + eps)", "np.sqrt(v / bias2 + eps)",
             loses=("test_adam_step",), why="eps inside the square root"),
    Mutation("adam_paper_eps", "adam_step", "p -= lr * (m / bias1) / (np.sqrt(v / bias2) + eps)",
             "p -= lr * bias2 ** 0.5 / bias1 * m / (np.sqrt(v) + eps)",
             loses=("test_adam_step",), why="the paper's 'efficient' form: eps before the bias correction"),
    Mutation("adam_state_rebound", "adam_step", _ADAM_INIT,
             '    if not state:\n        state = {"step": 0, "m": {name: np.zeros_like(p) for name, p in params.items()},\n'
             '                 "v": {name: np.zeros_like(p) for name, p in params.items()}}',
             loses=("test_adam_step",), why="a new local state dict: the caller's stays empty, every step is step 1"),
]
