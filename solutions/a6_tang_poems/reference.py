"""Instructor-only references for the hidden tests of assignment 6 (the Tang-poem LSTM).

Never released: at release each hidden test's `from reference import ...` is replaced by the
definitions it names (helpers/instructor/references.py). Oracles are written in torch (or plain
Python where the answer is a dict or a list), and the comparisons use torch operations or `==` on
plain Python values, so a submission that replaces np.allclose or np.testing.* fools none of them."""
import collections
import random
from math import exp, inf

import torch
import torch.nn.functional as functional
from numpy.random import default_rng
from helpers.reference_compare import chi_square_p

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<unk>")   # indices 0, 1, 2, 3 of every vocabulary
MARKS = ("，", "。")                                 # the punctuation a quatrain's form puts in place


# ---------------------------------------------------------------- comparisons and set-up
def largest_error(got, want):
    """max |got - want| over the entries, as a float (torch operations only)."""
    got = torch.as_tensor(got).detach().to(torch.float64)
    return (got - torch.as_tensor(want).detach().to(torch.float64)).abs().max().item()


def seed_global_generators(value):
    """Seed python's random, numpy's legacy generator and torch with value: a function that draws only
    from its own generator gives the same result whatever they hold."""
    import numpy

    random.seed(value)
    numpy.random.seed(value)
    torch.manual_seed(value)


def random_chars(rng, n):
    """n distinct CJK ideographs (U+4E00 ...) drawn from rng, a numpy Generator."""
    return [chr(0x4E00 + int(code)) for code in rng.choice(20000, size=n, replace=False)]


# ---------------------------------------------------------------- build_vocab
def vocab_of(poems, min_freq):
    """Reference build_vocab: dict token -> index (specials, then characters by count, ties in Unicode order)."""
    seen = collections.Counter("".join(poems))
    chars = sorted((ch for ch in seen if seen[ch] >= min_freq), key=lambda ch: (-seen[ch], ch))
    return dict(zip(SPECIAL_TOKENS + tuple(chars), range(len(chars) + 4)))


def plain_vocab(value):
    """A vocabulary as a dict with int indices (an assertion names a return value that is not a dict)."""
    assert isinstance(value, dict), f"build_vocab must return a dict, got {type(value).__name__}"
    return {token: int(index) for token, index in value.items()}


def vocab_cases():
    """(poems, min_freq): edge cases, then random corpora (seeds 0 to 3) at five thresholds each."""
    yield from [([], 1), (["甲甲乙", "乙丙"], 2), (["甲甲乙", "乙丙"], 3), (["，。，"], 1), (["春"], 2)]
    for rng in map(default_rng, range(4)):
        alphabet = random_chars(rng, int(rng.integers(3, 25))) + list(MARKS)
        corpus = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 20)))) for _ in range(int(rng.integers(1, 40)))]
        for threshold in (1, 2, 3, int(rng.integers(4, 9)), 10_000):
            yield corpus, threshold


# ---------------------------------------------------------------- encode_fixed_length
def encoding_of(poem, vocab, length):
    """Reference encode_fixed_length: <s> poem </s>, its first `length` tokens, <pad> in front."""
    marked = ["<s>", *poem, "</s>"][:length]
    return [vocab["<pad>"]] * (length - len(marked)) + [vocab.get(token, vocab["<unk>"]) for token in marked]


def encoding_cases():
    """(poem, vocab, length): poems of 0 to 120 characters (a third unknown), lengths around the fit."""
    for rng in map(default_rng, (0, 1, 2)):
        chars = random_chars(rng, 30)
        known = dict(zip(SPECIAL_TOKENS + tuple(chars[:20]), range(24)))
        for n in (0, 1, 5, 24, 32, 78, 79, 120):
            poem = "".join(rng.choice(chars, size=n))
            for length in {1, 2, n + 1, n + 2, n + 3, 80, int(rng.integers(1, 130))}:
                yield poem, known, length


# ---------------------------------------------------------------- MyLSTM
def random_torch_lstm(seed, D, H):
    """nn.LSTM(D, H, batch_first=True) in float64, every weight uniform on [-1, 1], seeded by torch."""
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    for weight in lstm.parameters():
        weight.data.uniform_(-1.0, 1.0)
    return lstm


def copy_torch_weights(mine, lstm):
    """Map nn.LSTM's stacked weights (gates i, f, g, o; two biases) onto MyLSTM's twelve parameters."""
    H = lstm.hidden_size
    for k, gate in enumerate("ifco"):
        block = slice(k * H, k * H + H)
        getattr(mine, "Wx" + gate).data.copy_(lstm.weight_ih_l0[block].T)
        getattr(mine, "Wh" + gate).data.copy_(lstm.weight_hh_l0[block].T)
        getattr(mine, "b" + gate).data.copy_(lstm.bias_ih_l0[block] + lstm.bias_hh_l0[block])


LSTM_SHAPES = ((1, 1, 1, 1), (3, 5, 4, 6), (2, 17, 8, 3), (4, 2, 10, 10), (1, 40, 5, 7))   # (B, T, D, H)
PARAMETER_NAMES = tuple(kind + gate for gate in "ifco" for kind in ("Wx", "Wh", "b"))


# ---------------------------------------------------------------- masked_loss, masked_perplexity
def loss_of(logits, targets, pad_id):
    """Reference masked_loss: torch's cross-entropy with the padding ignored (a 0-dim tensor)."""
    return functional.cross_entropy(logits.flatten(0, -2), targets.flatten(), ignore_index=int(pad_id))


def perplexity_of(logits, targets, pad_id):
    """Reference masked_perplexity: exp of one mean over every real target (float)."""
    return exp(loss_of(logits, targets, pad_id).item())


def random_batch(g, highs, scale):
    """(logits (B, T, V) float64 times scale, targets (B, T), pad_id): B, T, V drawn from the torch
    generator g below highs (B, T >= 1, V >= 2)."""
    B, T, V = (int(torch.randint(low, high, (1,), generator=g)) for low, high in zip((1, 1, 2), highs))
    pad = int(torch.randint(0, V, (1,), generator=g))
    logits = torch.randn(B, T, V, generator=g, dtype=torch.float64) * scale
    return logits, torch.randint(0, V, (B, T), generator=g), pad


def describe_batch(logits, pad, scale):
    """'(B = .., T = .., V = .., pad_id = .., logits of scale ..)' for a message."""
    B, T, V = logits.shape
    return f"(B = {B}, T = {T}, V = {V}, pad_id = {pad}, logits of scale {scale:g})"


def loss_cases():
    """(logits, targets, pad_id, description) for seeds 0 to 5: 40% padding anywhere, a row that is
    padding but for its last target, logits of scale 1, 3 or 1000."""
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        scale = (1.0, 3.0, 1000.0)[seed % 3]
        logits, targets, pad = random_batch(g, (6, 12, 40), scale)
        V = logits.shape[-1]
        targets[torch.rand(targets.shape, generator=g) < 0.4] = pad
        targets[0, -1] = (pad + 1) % V                      # at least one real target
        if len(targets) > 1:
            targets[-1] = pad
            targets[-1, -1] = (pad + 2) % V
        yield logits, targets, pad, describe_batch(logits, pad, scale)


def perplexity_cases():
    """(logits, targets, pad_id, description) for seeds 50 to 55: front padding of random lengths."""
    for seed in range(50, 56):
        generator = torch.Generator().manual_seed(seed)
        scale = (1.0, 4.0)[seed % 2]
        logits, targets, pad = random_batch(generator, (7, 15, 60), scale)
        for row in targets:
            row[:int(torch.randint(0, targets.shape[1], (1,), generator=generator))] = pad
        targets[:, -1] = (pad + 1) % logits.shape[-1]
        yield logits, targets, pad, describe_batch(logits, pad, scale) + " with front padding"


# ---------------------------------------------------------------- top_k_sample
def top_k_of(logits, k, rng, temperature=1.0, banned=()):
    """Reference top_k_sample: banned logits to -inf, the k best allowed, one drawn by rng.choice from
    their softmax at the temperature (the same draws as the solution for the same rng)."""
    z = torch.as_tensor(logits).detach().to(torch.float64).flatten() / temperature
    excluded = [int(token) for token in banned]
    if excluded:
        z[excluded] = -inf
    best = torch.topk(z, min(int(k), int(torch.isfinite(z).sum())))
    p = torch.softmax(best.values, dim=0).numpy()
    return int(best.indices[int(rng.choice(len(p), p=p / p.sum()))])


def top_k_cases():
    """(seed, logits (V,), k, T, banned, the top k allowed tokens, their probabilities, description):
    the banned tokens are the most likely ones, and the logits are shifted (0, 900 or -50)."""
    for seed, (V, k, temperature, n_banned, shift) in enumerate(((12, 5, 1.0, 2, 0.0), (12, 4, 0.6, 3, 900.0),
                                                                (30, 8, 2.0, 4, -50.0), (6, 10, 1.5, 2, 0.0))):
        source = torch.Generator().manual_seed(seed)
        z = torch.randn(V, generator=source) * 1.5 + shift
        banned = [int(token) for token in torch.randperm(V, generator=source)[:n_banned]]
        z[banned] += 20.0
        top = sorted(set(range(V)) - set(banned), key=lambda token: -float(z[token]))[:k]
        probs = torch.softmax(z[top].double() / temperature, dim=0)
        yield (seed, z, k, temperature, banned, top, probs,
               f"(V = {V}, k = {k}, T = {temperature}, logits around {shift:g}, the banned tokens the most likely)")


# ---------------------------------------------------------------- generation
def poem_vocab(seed, n):
    """(vocab with the specials, n random characters and the two marks in the middle and at the end, the characters)."""
    chars = random_chars(default_rng(seed), n)
    tokens = list(SPECIAL_TOKENS) + chars[:n // 2] + [MARKS[0]] + chars[n // 2:] + [MARKS[1]]
    return {token: index for index, token in enumerate(tokens)}, chars


class SumLM(torch.nn.Module):
    """Next-token logits that depend on the sum of every token id fed so far (the state carries it):
    with top_k = 1 the poem shows whether every token was fed back, in order, with the state. The
    special tokens and the marks get +50, so they win unless banned."""

    def __init__(self, V, allowed, push):
        torch.nn.Module.__init__(self)
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.V, self.allowed, self.push = V, torch.tensor(allowed), list(push)
        self.noise = torch.rand(V, generator=torch.Generator().manual_seed(V)) * 0.1

    def forward(self, batch, carried=None):
        B, T = batch.shape
        sums = (0 if carried is None else carried[:, None]) + torch.cumsum(batch.long(), dim=1)
        logits = self.noise.expand(B, T, self.V).clone()
        logits[..., self.push] += 50.0
        favourite = self.allowed[(sums * 7) % len(self.allowed)]
        logits.scatter_add_(2, favourite[..., None], torch.full((B, T, 1), 10.0))
        return logits, sums[:, -1]


class RandomLM(torch.nn.Module):
    """An untrained embedding -> nn.LSTM -> linear model whose special tokens and marks look likely (+4)."""

    def __init__(self, V, push, init_seed):
        super(RandomLM, self).__init__()
        torch.manual_seed(init_seed)
        self.emb, self.lstm, self.head = torch.nn.Embedding(V, 8), torch.nn.LSTM(8, 12, batch_first=True), torch.nn.Linear(12, V)
        self.head.bias.data[list(push)] += 4.0

    def forward(self, ids, lstm_state=None):
        states, lstm_state = self.lstm(self.emb(ids), lstm_state)
        return self.head(states), lstm_state


def generation_setup(seed, vocab_seed, acrostic):
    """(vocab, characters, RandomLM, SumLM, trials, greedy prompts) for test set `seed`, with 30 + 10 * seed
    characters drawn with vocab_seed. trials: six (prompt, k, temperature) drawn with seed; a prompt is a
    first character, or four heads for an acrostic. greedy prompts: three more prompts for the SumLM."""
    vocab, chars = poem_vocab(vocab_seed, 30 + 10 * seed)
    push = [vocab[token] for token in SPECIAL_TOKENS + MARKS]
    settings = default_rng(seed)

    def prompt():
        return "".join(settings.choice(chars, size=4)) if acrostic else chars[int(settings.integers(len(chars)))]

    trials = [(prompt(), int(settings.choice([1, 3, 10, 1000])), float(settings.choice([0.3, 1.0, 3.0]))) for _ in range(6)]
    greedy = [prompt() for _ in range(3)] if acrostic else chars[:3]
    return (vocab, chars, RandomLM(len(vocab), push, seed), SumLM(len(vocab), [vocab[ch] for ch in chars], push),
            trials, greedy)


def greedy_poem(model, vocab, first=None, heads=None):
    """The 32 characters a correct generator writes with top_k = 1: from <s> (and `first`), every
    drawn or forced token fed back, each verse starting with heads[v] when heads is given."""
    chars = {index: token for token, index in vocab.items()}
    blocked = [vocab[token] for token in SPECIAL_TOKENS + MARKS]
    fed, poem = [vocab["<s>"]], ""
    for position in range(32):
        verse, place = divmod(position, 8)
        forced = (MARKS[verse % 2] if place == 7 else first if position == 0 and first is not None
                  else heads[verse] if place == 0 and heads is not None else None)
        if forced is None:
            scores = model(torch.tensor([fed]))[0][0, -1].double()
            scores[blocked] = -inf
            forced = chars[int(scores.argmax())]
        poem += forced
        fed.append(vocab[forced])
    return poem


def form_problem(poem, chars, what, heads=None):
    """'' when poem is a str of four verses of 7 characters of `chars`, each closed by its mark (and
    starting with heads[v] when heads is given); else what is wrong, in words."""
    if not isinstance(poem, str):
        return f"{what} must return a str, got {type(poem).__name__}"
    if len(poem) != 32:
        return f"{what} returned {len(poem)} characters, want 32 (4 verses of 7 + punctuation): {poem!r}"
    for verse, line in enumerate(poem[start:start + 8] for start in (0, 8, 16, 24)):
        if heads is not None and line[0] != heads[verse]:
            return f"verse {verse + 1} must start with heads[{verse}] = {heads[verse]!r}: {poem!r}"
        if line[7] != MARKS[verse % 2]:
            return f"verse {verse + 1} must end with {MARKS[verse % 2]}: {poem!r}"
        if not set(line[:7]) <= set(chars):
            return f"verse {verse + 1} holds a special token or punctuation at a character position: {poem!r}"
    return ""


