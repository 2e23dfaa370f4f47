"""Assignment 3's hidden tests: references, cases, statistical tests and comparisons (instructor-only).

The hidden tests import from here inside a function; the release inlines what they import.
Statistical tests fail a correct answer with probability FALSE_ALARM (about once in 10,000 gradings)."""
import math

import numpy as np
import torch
from scipy.stats import ks_2samp, kstest
from helpers.reference_compare import as_float64, chi_square_p, mismatch

FALSE_ALARM = 1e-4
GUMBEL_MEAN = 0.5772156649015329  # Euler's constant
GUMBEL_VARIANCE = math.pi ** 2 / 6


def ref_probabilities(logits, temperature):
    """softmax(logits / temperature) over all entries: a float64 tensor of the shape of logits."""
    y = as_float64(logits)
    return torch.softmax(y.reshape(-1) / temperature, dim=0).reshape(y.shape)


def ref_softmax_temperature(logits, temperature):
    """The reference softmax_temperature (numpy array of the shape of logits)."""
    return ref_probabilities(logits, temperature).numpy()


def ref_gumbel_noise(shape, rng):
    """The reference gumbel_noise: -log(-log U), U uniform in (0, 1), from rng only."""
    return -np.log(-np.log(rng.uniform(np.finfo(np.float64).tiny, 1.0, size=shape)))


def ref_gumbel_max_sample(logits, rng, temperature=1.0):
    """The reference gumbel_max_sample: argmax of logits / temperature plus Gumbel noise per category."""
    y = np.asarray(logits, dtype=np.float64)
    return int(np.argmax(y / temperature + ref_gumbel_noise(y.shape, rng)))


def temperature_cases():
    """[(logits of shape (V,) or (V, 1), shifted by up to +-500, T)]: V = 1, 2, 65 and one from 3 to 199,
    T from 0.05 to 100, for three seeds."""
    cases = []
    for rng in map(np.random.default_rng, (31, 32, 33)):
        for V, scale, column in ((1, 1.0, True), (2, 3.0, False), (65, 2.0, True), (int(rng.integers(3, 200)), 30.0, False)):
            for T in (0.05, 0.5, 1.0, 3.0, 100.0):
                cases.append((rng.normal(0.0, scale, size=(V, 1) if column else (V,)) + rng.uniform(-500.0, 500.0), T))
    return cases


def temperature_limits():
    """[(logits, T, want: tensor, tol, what)]: T -> 0 gives the argmax, T -> infinity the uniform
    distribution, and logits of 10^4 at T = 0.01."""
    limits = []
    rng = np.random.default_rng(34)
    for V in (2, 7, 65):
        y = rng.permutation(np.arange(V, dtype=np.float64) * 0.5 - 3.0)
        onehot = torch.zeros(V, dtype=torch.float64)
        onehot[int(y.argmax())] = 1.0
        limits.append((y, 1e-4, onehot, 1e-12, "a temperature near 0 must put all the probability on the largest logit"))
        limits.append((y, 1e9, torch.full((V,), 1.0 / V, dtype=torch.float64), 1e-6,
                       "a huge temperature must give the uniform distribution"))
    limits.append((np.array([1e4, -1e4, 5e3, 0.0]), 0.01, torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64), 1e-12,
                   "softmax_temperature must work for logits of 10^4 at T = 0.01"))
    return limits


def numpy_global_state():
    """What np.random's global generator would draw next (to see that a function used only its rng)."""
    state = np.random.get_state()
    return state[1].tobytes(), state[2:]


def gumbel_law_problem(g, n):
    """None when g looks like n independent Gumbel(0, 1) draws; else what does not (mean and variance within
    6 standard errors, a Kolmogorov-Smirnov test, the correlation of neighbours)."""
    if tuple(np.shape(g)) != (n,):
        return f"has shape {np.shape(g)}, want ({n},)"
    t = as_float64(g)
    if not torch.isfinite(t).all().item():
        return "holds nan or inf"
    mean = t.mean().item()
    variance = ((t - mean) ** 2).mean().item()
    if abs(mean - GUMBEL_MEAN) >= 6 * (GUMBEL_VARIANCE / n) ** 0.5:
        return f"has mean {mean:.4f}: Gumbel(0, 1) has mean 0.5772"
    if abs(variance - GUMBEL_VARIANCE) >= 6 * (4.4 / n) ** 0.5 * GUMBEL_VARIANCE:
        return f"has variance {variance:.4f}: Gumbel(0, 1) has variance 1.645"
    if kstest(t.numpy(), "gumbel_r").pvalue <= FALSE_ALARM:
        return "does not follow the Gumbel(0, 1) distribution (Kolmogorov-Smirnov test)"
    correlation = ((t[:-1] - mean) * (t[1:] - mean)).mean().item() / variance
    return "has correlated neighbours: the entries are not independent draws" if abs(correlation) >= 6 / n ** 0.5 else None


class ZeroFirstGenerator(np.random.Generator):
    """A generator whose first uniform draw is all zeros (or the lower bound asked for), as rng.random() may
    give: both a guard and drawing again are correct answers."""
    zeros_left = 1

    def zero_due(self):
        """Whether this draw is the zero one (the first)."""
        due, self.zeros_left = self.zeros_left > 0, max(0, self.zeros_left - 1)
        return due

    def random(self, size=None, dtype=np.float64, out=None):
        if self.zero_due():
            return np.zeros(() if size is None else size, dtype=dtype)
        return super().random(size=size, dtype=dtype, out=out)

    def uniform(self, low=0.0, high=1.0, size=None):
        if self.zero_due():
            return np.full(() if size is None else size, low, dtype=np.float64)
        return super().uniform(low, high, size)


def under_global_seeds(draw):
    """[draw() after np.random.seed(1), draw() after np.random.seed(2)]: equal when draw uses only its own rng."""
    results = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        results.append(draw())
    return results


def index_counts(draws, V):
    """How often each of V categories was drawn (float64 tensor); None unless every draw is an int in [0, V)."""
    if not all(isinstance(d, (int, np.integer)) and 0 <= int(d) < V for d in draws):
        return None
    return torch.bincount(torch.tensor([int(d) for d in draws], dtype=torch.int64), minlength=V).double()


def follows(counts, probs):
    """Whether counts could come from the categorical probs: a chi-square test."""
    return chi_square_p(counts, probs) > FALSE_ALARM


def sampler_cases():
    """[(logits (V,) or (V, 1), T or None for the default, seed)]: V = 3 to 8, equal logits, logits near 700."""
    base = [2.0, 1.0, 0.5, -1.0, 0.0]
    wide = [0.3, -1.2, 1.5, 0.8, -0.4, 2.1, 0.0, -2.0]
    cases = [(base, 1.0), (base, 0.5), (base, 3.0), ([0.0, 0.0, 0.0], 1.0), ([v + 700.0 for v in wide], 1.7), (wide, None)]
    return [(np.array(y).reshape(-1, 1) if i % 2 else np.array(y), T, 50 + i) for i, (y, T) in enumerate(cases)]


def relaxed_cdf(tau, gap):
    """P(y[0] <= x) for a Gumbel-softmax sample y of two logits with l0 - l1 = gap: y[0] = sigmoid((gap + L) / tau)
    with L logistic, so the law is sigmoid(tau * logit(x) - gap)."""
    return lambda x: 1.0 / (1.0 + np.exp(-(tau * (np.log(x) - np.log1p(-x)) - gap)))


def follows_law(samples, cdf):
    """Whether 1-D samples could come from the distribution function cdf (Kolmogorov-Smirnov test)."""
    return kstest(np.asarray(samples, dtype=np.float64), cdf).pvalue > FALSE_ALARM


def same_law(ours, theirs):
    """Whether two 1-D samples could come from one distribution (two-sample Kolmogorov-Smirnov test)."""
    return ks_2samp(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)).pvalue > FALSE_ALARM


def generator(seed):
    """A torch.Generator seeded with seed."""
    return torch.Generator().manual_seed(seed)


def relaxed_gradient(sample, weights, tau):
    """d (weights * y).sum() / d logits for y = softmax((logits + g) / tau) with the value sample (a tensor)."""
    return sample * (weights - (weights * sample).sum(-1, keepdim=True)) / tau
