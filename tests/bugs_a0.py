"""Realistic bugs in assignment 0 (see catalogue.py)."""
from submissions import Mutation

ASSIGNMENT = "a0_welcome"

MUTATIONS = [
    Mutation("freq_counts", "char_frequencies", "return counts / counts.sum()", "return counts.astype(float)",
             loses=("test_char_frequencies",), why="counts instead of relative frequencies"),
    Mutation("freq_no_minlength", "char_frequencies", ", minlength=vocab_size)", ")",
             loses=("test_char_frequencies",), why="characters past the last one used are dropped"),
    Mutation("freq_unique_order", "char_frequencies",
             "counts = np.bincount(np.asarray(indices, dtype=np.int64), minlength=vocab_size)",
             "counts = np.unique(np.asarray(indices), return_counts=True)[1]",
             loses=("test_char_frequencies",), why="counts of the characters present only, in their own order"),
    Mutation("entropy_log2", "entropy", "np.log(nonzero)", "np.log2(nonzero)",
             loses=("test_entropy",), why="bits instead of nats"),
    Mutation("entropy_zeros", "entropy", "nonzero = p[p > 0]", "nonzero = p",
             loses=("test_entropy",), why="0 · ln 0 gives nan"),
    Mutation("entropy_sign", "entropy", "float(-np.sum(", "float(np.sum(",
             loses=("test_entropy",), why="the minus sign is forgotten"),
]
