"""Realistic bugs in assignment 2 (see catalogue.py)."""
from submissions import Mutation

ASSIGNMENT = "a2_rnn_backprop"

MUTATIONS = [
    # rnn_backward
    Mutation("backward_no_dh_next", "rnn_backward", "dh = Why.T @ dy + dh_next", "dh = Why.T @ dy",
             loses=("test_rnn_backward",), why="forgets dh_next: BPTT truncated to one step"),
    Mutation("backward_sigmoid_derivative", "rnn_backward", "(1 - hs[t] * hs[t]) * dh", "hs[t] * (1 - hs[t]) * dh",
             loses=("test_rnn_backward",), why="the sigmoid's derivative h(1 - h) instead of tanh's 1 - h^2"),
    Mutation("backward_no_minus_one", "rnn_backward",
             "        dy[targets[t]] -= 1  # softmax + cross-entropy: p - onehot(target)\n", "",
             loses=("test_rnn_backward",), why="dy = p without subtracting 1 at the target"),
    Mutation("backward_whh_no_transpose", "rnn_backward", "dh_next = Whh.T @ dhraw", "dh_next = Whh @ dhraw",
             loses=("test_rnn_backward",), why="Whh instead of Whh.T (the lab report's bug; runs, Whh is square)"),
    Mutation("backward_dwxh_assign", "rnn_backward", "dWxh += dhraw @ xs[t].T", "dWxh = dhraw @ xs[t].T",
             loses=("test_rnn_backward",), why="dWxh overwritten at each step instead of accumulated"),
    Mutation("backward_dwhh_hs_t", "rnn_backward", "dWhh += dhraw @ hs[t - 1].T", "dWhh += dhraw @ hs[t].T",
             loses=("test_rnn_backward",), why="hs[t] instead of hs[t - 1] in dWhh"),
    Mutation("backward_dy_alias", "rnn_backward", "dy = np.copy(ps[t])", "dy = ps[t]",
             loses=("test_rnn_backward",), why="dy aliases the cached ps[t] (the lab report's code): the cache "
                                               "is corrupted and a second backward pass is wrong"),
    # loss_fun
    Mutation("loss_h_last_initial", "loss_fun", 'cache["hs"][len(inputs) - 1]', 'cache["hs"][-1]',
             loses=("test_loss_fun",), why="hs[-1] is the dict key -1, the initial state, not the last one"),
    Mutation("loss_backward_inputs", "loss_fun", "rnn_backward(targets, cache, params)",
             "rnn_backward(inputs, cache, params)",
             loses=("test_loss_fun",), why="backpropagates towards the inputs instead of the targets"),
    Mutation("loss_clips_inside", "loss_fun", "    h_last = ",
             "    for g in grads.values():\n        np.clip(g, -5, 5, out=g)\n    h_last = ",
             loses=("test_loss_fun",), why="clips inside loss_fun as min-char-rnn does: not the exact gradient"),
    Mutation("loss_mean", "loss_fun", "return loss, grads, h_last", "return loss / len(inputs), grads, h_last",
             loses=("test_loss_fun",), why="averaged loss with summed gradients"),
    # clip_gradients
    Mutation("clip_new_dict", "clip_gradients",
             "for g in grads.values():\n        np.clip(g, -limit, limit, out=g)",
             "return {k: np.clip(g, -limit, limit) for k, g in grads.items()}",
             loses=("test_clip_gradients",), why="returns a new dict instead of clipping in place"),
    Mutation("clip_one_sided", "clip_gradients", "np.clip(g, -limit, limit, out=g)", "np.minimum(g, limit, out=g)",
             loses=("test_clip_gradients",), why="clips only the positive side"),
    Mutation("clip_rebinds_arrays", "clip_gradients",
             "for g in grads.values():\n        np.clip(g, -limit, limit, out=g)",
             "for k in grads:\n        grads[k] = np.clip(grads[k], -limit, limit)",
             loses=("test_clip_gradients",), why="puts new arrays in the dict: the caller's arrays stay unclipped"),
    # clip_by_global_norm
    Mutation("gnorm_max", "clip_by_global_norm", "np.sqrt(sum(np.sum(g * g) for g in grads.values()))",
             "max(np.max(np.abs(g)) for g in grads.values())",
             loses=("test_clip_by_global_norm",), why="the largest entry instead of the norm"),
    Mutation("gnorm_sum_of_norms", "clip_by_global_norm", "np.sqrt(sum(np.sum(g * g) for g in grads.values()))",
             "sum(np.sqrt(np.sum(g * g)) for g in grads.values())",
             loses=("test_clip_by_global_norm",), why="sum of per-array norms instead of the global norm"),
    Mutation("gnorm_always_scale", "clip_by_global_norm",
             "    if norm > max_norm:\n        scale = max_norm / norm\n        for g in grads.values():\n"
             "            g *= scale",
             "    scale = max_norm / norm\n    for g in grads.values():\n        g *= scale",
             loses=("test_clip_by_global_norm",), why="rescales to max_norm even when under the limit"),
    Mutation("gnorm_not_in_place", "clip_by_global_norm", "g *= scale", "g = g * scale",
             loses=("test_clip_by_global_norm",), why="scales a new array: nothing is clipped"),
    # adagrad_update
    Mutation("adagrad_no_memory", "adagrad_update", "        mem += g * g\n", "",
             loses=("test_adagrad_update",), why="the memory is never updated"),
    Mutation("adagrad_eps_outside", "adagrad_update", "np.sqrt(mem + 1e-8)", "(np.sqrt(mem) + 1e-8)",
             loses=("test_adagrad_update",), why="epsilon moved outside the square root"),
    Mutation("adagrad_memory_rebound", "adagrad_update", "mem += g * g", "mem = mem + g * g",
             loses=("test_adagrad_update",), why="a new memory array: the caller's memory never grows"),
    Mutation("adagrad_step_before_memory", "adagrad_update",
             "        mem += g * g\n        p -= learning_rate * g / np.sqrt(mem + 1e-8)",
             "        p -= learning_rate * g / np.sqrt(mem + 1e-8)\n        mem += g * g",
             loses=("test_adagrad_update",), why="steps with the old memory, then updates it"),
]
