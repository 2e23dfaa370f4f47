"""Realistic bugs in assignment 1 (see catalogue.py)."""
from submissions import Mutation

ASSIGNMENT = "a1_rnn_forward"

MUTATIONS = [
    Mutation("one_hot_int", "one_hot", "np.zeros((vocab_size, 1))", "np.zeros((vocab_size, 1), dtype=int)",
             loses=("test_one_hot",), why="integer one-hot: later products silently change dtype"),
    Mutation("one_hot_flat", "one_hot", "x = np.zeros((vocab_size, 1))\n    x[ix, 0] = 1.0",
             "x = np.zeros(vocab_size)\n    x[ix] = 1.0",
             loses=("test_one_hot",), why="shape (V,) instead of the column (V, 1)"),
    Mutation("softmax_no_shift", "softmax", "np.exp(y - np.max(y))", "np.exp(y)",
             loses=("test_softmax",), why="overflows to nan for large logits"),
    Mutation("softmax_in_place", "softmax", "z = np.exp(y - np.max(y))",
             "y -= np.max(y)\n    z = np.exp(y)",
             loses=("test_softmax",), why="stable but modifies the caller's logits"),
    Mutation("step_sigmoid", "rnn_step_forward",
             'h = np.tanh(params["Wxh"] @ x + params["Whh"] @ h_prev + params["bh"])',
             'h = 1 / (1 + np.exp(-(params["Wxh"] @ x + params["Whh"] @ h_prev + params["bh"])))',
             loses=("test_rnn_step_forward",), why="sigmoid instead of tanh"),
    Mutation("step_no_h_prev", "rnn_step_forward", ' + params["Whh"] @ h_prev', "",
             loses=("test_rnn_step_forward",), why="the recurrence is forgotten"),
    Mutation("forward_mean_loss", "rnn_forward", "return float(loss), ", "return float(loss) / len(inputs), ",
             loses=("test_rnn_forward",), why="loss averaged over time instead of summed"),
    Mutation("forward_input_as_target", "rnn_forward", "ps[t][targets[t], 0]", "ps[t][inputs[t], 0]",
             loses=("test_rnn_forward",), why="scores the input character instead of the next one"),
    Mutation("forward_no_carry", "rnn_forward", "rnn_step_forward(xs[t], hs[t - 1], params)",
             "rnn_step_forward(xs[t], hs[-1], params)",
             loses=("test_rnn_forward",), why="every step restarts from h_prev"),
    Mutation("init_global_rng", "init_params", '"Wxh": rng.normal(', '"Wxh": np.random.normal(',
             loses=("test_init_params",), why="draws from np.random, not from the rng argument"),
    Mutation("init_bias_random", "init_params", '"bh": np.zeros((hidden_size, 1))',
             '"bh": rng.normal(0.0, scale, (hidden_size, 1))',
             loses=("test_init_params",), why="random biases"),
    Mutation("sample_argmax", "sample", "int(rng.choice(vocab_size, p=p.ravel()))", "int(np.argmax(p))",
             loses=("test_sample",), why="greedy decoding instead of sampling"),
    Mutation("sample_no_feedback", "sample", "        x = one_hot(ix, vocab_size)\n", "",
             loses=("test_sample",), why="the sampled character is not fed back in"),
]
