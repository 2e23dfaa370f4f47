"""Realistic bugs in assignment 3 (see catalogue.py)."""
from submissions import Mutation

ASSIGNMENT = "a3_sampling"

_SOFTMAX_T = ("scaled = np.asarray(logits, dtype=np.float64) / temperature\n"
              "    z = np.exp(scaled - np.max(scaled))\n"
              "    return z / np.sum(z)")

MUTATIONS = [
    # softmax_temperature
    Mutation("softmax_T_divide_probabilities", "softmax_temperature", _SOFTMAX_T,
             "scaled = np.asarray(logits, dtype=np.float64)\n"
             "    z = np.exp(scaled - np.max(scaled))\n"
             "    return z / np.sum(z) / temperature",
             loses=("test_softmax_temperature",), why="temperature applied after the softmax: softmax(y) / T"),
    Mutation("softmax_T_power_unnormalised", "softmax_temperature", _SOFTMAX_T,
             "scaled = np.asarray(logits, dtype=np.float64)\n"
             "    z = np.exp(scaled - np.max(scaled))\n"
             "    return (z / np.sum(z)) ** (1.0 / temperature)",
             loses=("test_softmax_temperature",), why="p ** (1/T) without renormalising"),
    Mutation("softmax_T_no_shift", "softmax_temperature", "np.exp(scaled - np.max(scaled))", "np.exp(scaled)",
             loses=("test_softmax_temperature",), why="overflows for large logits or small T"),
    Mutation("softmax_T_multiply", "softmax_temperature", "np.float64) / temperature", "np.float64) * temperature",
             loses=("test_softmax_temperature",), why="multiplies the logits by T: high T sharpens"),
    # gumbel_noise
    Mutation("gumbel_noise_one_log", "gumbel_noise", "-np.log(-np.log(u))", "-np.log(u)",
             loses=("test_gumbel_noise",), why="-log(U) is exponential noise, not Gumbel"),
    Mutation("gumbel_noise_sign", "gumbel_noise", "-np.log(-np.log(u))", "np.log(-np.log(u))",
             loses=("test_gumbel_noise",), why="log(-log U): the Gumbel of the minimum, mean -0.577"),
    Mutation("gumbel_noise_global_rng", "gumbel_noise", "rng.uniform(", "np.random.uniform(",
             loses=("test_gumbel_noise",), why="draws from np.random instead of rng"),
    Mutation("gumbel_noise_no_guard", "gumbel_noise", "rng.uniform(np.finfo(np.float64).tiny, 1.0, size=shape)",
             "rng.random(size=shape)", loses=("test_gumbel_noise",), why="U = 0 gives -log(-log 0) = -inf"),
    # gumbel_max_sample
    Mutation("gumbel_max_scalar_noise", "gumbel_max_sample", "gumbel_noise(logits.shape, rng)",
             "gumbel_noise((), rng)", loses=("test_gumbel_max_sample",),
             why="report 000's trap: one scalar of noise for all categories, always the argmax"),
    Mutation("gumbel_max_argmin", "gumbel_max_sample", "np.argmax(scores)", "np.argmin(scores)",
             loses=("test_gumbel_max_sample",), why="argmin instead of argmax"),
    Mutation("gumbel_max_temperature_on_noise", "gumbel_max_sample",
             "logits / temperature + gumbel_noise(logits.shape, rng)",
             "(logits + gumbel_noise(logits.shape, rng)) / temperature",
             loses=("test_gumbel_max_sample",), why="noise divided by T too: the temperature has no effect"),
    Mutation("gumbel_max_global_rng", "gumbel_max_sample", "gumbel_noise(logits.shape, rng)",
             "np.random.gumbel(size=logits.shape)", loses=("test_gumbel_max_sample",),
             why="noise from np.random instead of rng"),
    # gumbel_softmax
    Mutation("gumbel_softmax_tau_ignored", "gumbel_softmax", "gumbel_noise(logits.shape, rng), tau)",
             "gumbel_noise(logits.shape, rng), 1.0)", loses=("test_gumbel_softmax",), why="tau ignored"),
    Mutation("gumbel_softmax_tau_on_logits", "gumbel_softmax",
             "softmax_temperature(logits + gumbel_noise(logits.shape, rng), tau)",
             "softmax_temperature(logits / tau + gumbel_noise(logits.shape, rng), 1.0)",
             loses=("test_gumbel_softmax",), why="only the logits divided by tau: the argmax law changes"),
    Mutation("gumbel_softmax_scalar_noise", "gumbel_softmax", "gumbel_noise(logits.shape, rng)",
             "gumbel_noise((), rng)", loses=("test_gumbel_softmax",), why="one scalar of noise for all categories"),
    Mutation("gumbel_softmax_hard_at_logits", "gumbel_softmax", "one_hot.flat[np.argmax(y)]",
             "one_hot.flat[np.argmax(logits)]", loses=("test_gumbel_softmax",),
             why="hard sample at the argmax of the logits, not of the relaxed sample"),
    # gumbel_softmax_torch
    Mutation("gumbel_torch_no_straight_through", "gumbel_softmax_torch",
             "return y_hard - y_soft.detach() + y_soft", "return y_hard",
             loses=("test_gumbel_softmax_torch",), why="hard without straight-through: no gradient"),
    Mutation("gumbel_torch_detach_wrong_term", "gumbel_softmax_torch",
             "return y_hard - y_soft.detach() + y_soft", "return y_hard - y_soft + y_soft.detach()",
             loses=("test_gumbel_softmax_torch",), why="detaches the wrong term: the gradient changes sign"),
    Mutation("gumbel_torch_tau_ignored", "gumbel_softmax_torch", "torch.softmax((logits + g) / tau, dim=-1)",
             "torch.softmax(logits + g, dim=-1)", loses=("test_gumbel_softmax_torch",), why="tau ignored"),
    Mutation("gumbel_torch_global_generator", "gumbel_softmax_torch", "generator=generator, ", "",
             loses=("test_gumbel_softmax_torch",), why="noise from torch's global generator, not the one given"),
    Mutation("gumbel_torch_softmax_dim0", "gumbel_softmax_torch", "torch.softmax((logits + g) / tau, dim=-1)",
             "torch.softmax((logits + g) / tau, dim=0)", loses=("test_gumbel_softmax_torch",),
             why="softmax over the batch axis instead of the categories"),
]

# Correct solutions written another way: they keep full marks. The sampler is graded by the
# distribution of its index (the notebook says so), so the report's softmax + rng.choice passes.
ALTERNATIVES = [
    ("alt_other_samplers", "softmax_temperature", '''def softmax_temperature(logits, temperature):
    from scipy.special import logsumexp
    scaled = np.asarray(logits, dtype=float) / temperature
    return np.exp(scaled - logsumexp(scaled))
'''),
    ("alt_other_samplers", "gumbel_noise", '''def gumbel_noise(shape, rng):
    return rng.gumbel(size=shape)
'''),
    ("alt_other_samplers", "gumbel_max_sample", '''def gumbel_max_sample(logits, rng, temperature=1.0):
    # an exact sampler of softmax(logits / T), though not the Gumbel-max trick
    p = softmax_temperature(logits, temperature).ravel()
    return int(rng.choice(p.size, p=p))
'''),
]
