'''Assignment 0 written other ways (see catalogue.py).

ALTERNATIVES: correct solutions that must keep full marks, as (student, grade_id, the
full source of that solution cell). Entries that share a student make one submission:
since a wrong function costs only its own test cell, each cell's score tells which
alternative failed, and three students grade six alternatives.
'''

ASSIGNMENT = "a0_welcome"

LOOPS = "alt_loops"            # Python loops over the indices and the probabilities, math.log
NUMPY = "alt_numpy"            # other numpy: np.unique scattered into zeros, np.log with where=/out=
LIBRARY = "alt_library"        # the standard library and scipy: collections.Counter, scipy.stats.entropy

ALTERNATIVES = [
    (LOOPS, "char_frequencies", '''def char_frequencies(indices, vocab_size):
    # A list of counts filled by a Python loop, divided by N at the end.
    counts = [0] * vocab_size
    for ix in indices:
        counts[int(ix)] += 1
    n = len(indices)
    return np.array([c / n for c in counts], dtype=float)
'''),
    (LOOPS, "entropy", '''import math

def entropy(p):
    # A loop over the probabilities that skips the zeros, math.log.
    total = 0.0
    for pk in p:
        pk = float(pk)
        if pk > 0:
            total -= pk * math.log(pk)
    return total
'''),
    (NUMPY, "char_frequencies", '''def char_frequencies(indices, vocab_size):
    # np.unique counts only the characters present: scatter them into a vector of V zeros.
    present, counts = np.unique(np.asarray(indices), return_counts=True)
    q = np.zeros(vocab_size)
    q[present] = counts / counts.sum()
    return q
'''),
    (NUMPY, "entropy", '''def entropy(p):
    # ln p only where p > 0 (0 elsewhere, never -inf), then one dot product.
    p = np.asarray(p, dtype=float)
    log_p = np.log(p, out=np.zeros_like(p), where=p > 0)
    return float(-(p @ log_p))
'''),
    (LIBRARY, "char_frequencies", '''from collections import Counter

def char_frequencies(indices, vocab_size):
    # collections.Counter: a missing key counts 0, so unused characters get 0.
    counts = Counter(int(ix) for ix in indices)
    n = sum(counts.values())
    return np.array([counts[k] / n for k in range(vocab_size)])
'''),
    (LIBRARY, "entropy", '''from scipy import stats

def entropy(p):
    # scipy.stats.entropy: natural log by default, 0 ln 0 = 0.
    return float(stats.entropy(p))
'''),
]
