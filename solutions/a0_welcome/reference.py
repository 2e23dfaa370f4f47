"""Assignment 0's hidden tests: references, random cases and the comparison (instructor-only).

The hidden tests import from here inside a function; the release inlines what they import."""
import numpy as np
import torch
from helpers.reference_compare import mismatch


def frequency_case(seed):
    """(indices: (N,) int array, V, want: (V,) tensor of relative frequencies); the upper half of the
    vocabulary never occurs."""
    rng = np.random.default_rng(seed)
    V = int(rng.integers(1, 90))
    n = int(rng.integers(1, 500))
    indices = rng.integers(0, max(1, V // 2), size=n)
    return indices, V, torch.bincount(torch.as_tensor(indices), minlength=V).double() / n


def entropy_cases():
    """[(p: (V,) probabilities, want: entropy in nats by torch)]: three random distributions with a
    zero, a certain outcome, and the uniform distribution over 65 outcomes."""
    cases = []
    for generator in map(np.random.default_rng, (4, 5, 6)):
        V = int(generator.integers(2, 100))
        p = generator.dirichlet(np.ones(V) * 0.3)
        p[generator.integers(V)] = 0.0
        cases.append(p / p.sum())
    cases += [np.array([1.0]), np.full(65, 1 / 65)]
    return [(p, torch.distributions.Categorical(probs=torch.as_tensor(p)).entropy()) for p in cases]
