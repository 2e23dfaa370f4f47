"""Realistic bugs in assignment 6, and correct solutions written otherwise (see catalogue.py)."""
from submissions import Mutation, Rewrite

ASSIGNMENT = "a6_tang_poems"

MUTATIONS = [
    # build_vocab
    Mutation("vocab_min_freq_strict", "build_vocab", "if n >= min_freq)", "if n > min_freq)",
             loses=("test_build_vocab",), why="min_freq off by one: drops the characters seen exactly min_freq times"),
    Mutation("vocab_no_tiebreak", "build_vocab", "key=lambda ch: (-counts[ch], ch))", "key=lambda ch: -counts[ch])",
             loses=("test_build_vocab",), why="ties keep the order first seen (as Counter.most_common), not Unicode order"),
    Mutation("vocab_counts_poems", "build_vocab", "Counter(ch for poem in poems for ch in poem)",
             "Counter(ch for poem in poems for ch in set(poem))",
             loses=("test_build_vocab",), why="counts the poems that contain a character, not its occurrences"),
    # encode_fixed_length
    Mutation("encode_back_padding", "encode_fixed_length", "return [vocab[PAD]] * (length - len(ids)) + ids",
             "return ids + [vocab[PAD]] * (length - len(ids))",
             loses=("test_encode_fixed_length",), why="pads at the back instead of the front"),
    Mutation("encode_keep_end", "encode_fixed_length", "ids = ids[:length]", "ids = ids[-length:]",
             loses=("test_encode_fixed_length",), why="truncates a long poem from the front, keeping its end"),
    Mutation("encode_no_end_marker", "encode_fixed_length", " + [vocab[EOS]]", "",
             loses=("test_encode_fixed_length",), why="forgets the end marker </s>"),
    Mutation("encode_unknown_as_pad", "encode_fixed_length", "vocab.get(ch, vocab[UNK])", "vocab.get(ch, vocab[PAD])",
             loses=("test_encode_fixed_length",), why="characters missing from the vocabulary become <pad>, not <unk>"),
    # split_poems
    Mutation("split_global_rng", "split_poems", "order = np.random.default_rng(seed).permutation(len(poems))",
             "order = np.random.permutation(len(poems))",
             loses=("test_split_poems",), why="not seeded: draws from the global np.random"),
    Mutation("split_five_to_one", "split_poems", "n_test = len(poems) // 5", "n_test = len(poems) // 6",
             loses=("test_split_poems",), why="a 5:1 split instead of 4:1"),
    Mutation("split_overlap", "split_poems", "train = [poems[i] for i in order[n_test:]]",
             "train = [poems[i] for i in order[n_test - 1:]]",
             loses=("test_split_poems",), why="off-by-one slice: one poem is in both parts"),
    # MyLSTM
    Mutation("lstm_gates_swapped", "MyLSTM", "c = f * c + i * g", "c = i * c + f * g",
             loses=("test_my_lstm_forward",), why="input and forget gates swapped in the cell update"),
    Mutation("lstm_candidate_sigmoid", "MyLSTM", "g = torch.tanh(z[:, 2 * H:3 * H])",
             "g = torch.sigmoid(z[:, 2 * H:3 * H])",
             loses=("test_my_lstm_forward",), why="sigmoid instead of tanh for the candidate"),
    Mutation("lstm_ignores_state", "MyLSTM", "if state is None:", "if True:",
             loses=("test_my_lstm_forward",), why="always starts from zeros, ignoring the given (h0, c0)"),
    Mutation("lstm_rand_init", "MyLSTM", "nn.Parameter(torch.randn(input_size, hidden_size) * scale)",
             "nn.Parameter(torch.rand(input_size, hidden_size) * scale)",
             loses=("test_my_lstm_init",), why="the report's torch.rand: every input weight positive"),
    # masked_loss
    Mutation("loss_unmasked", "masked_loss", "mask = (targets != pad_id).to(log_probs.dtype)",
             "mask = torch.ones_like(picked)",
             loses=("test_masked_loss",), why="padding not masked out of the loss"),
    Mutation("loss_mean_over_all", "masked_loss", "/ mask.sum()", "/ mask.numel()",
             loses=("test_masked_loss",), why="padding zeroed but the sum divided by every position"),
    Mutation("loss_bits", "masked_loss", "log_probs = torch.log_softmax(logits, dim=-1)",
             "log_probs = torch.log_softmax(logits, dim=-1) / math.log(2)",
             loses=("test_masked_loss",), why="log2 instead of the natural log"),
    # masked_perplexity
    Mutation("ppl_unmasked", "masked_perplexity", "return math.exp(nll[keep].mean().item())",
             "return math.exp(nll.mean().item())",
             loses=("test_masked_perplexity",), why="padding not masked out of the perplexity"),
    Mutation("ppl_base2", "masked_perplexity", "return math.exp(nll[keep].mean().item())",
             "return 2 ** nll[keep].mean().item()",
             loses=("test_masked_perplexity",), why="2 ** loss with a loss in nats"),
    Mutation("ppl_mean_of_poems", "masked_perplexity", "return math.exp(nll[keep].mean().item())",
             "per_poem = (nll * keep).view(targets.shape).sum(1) / keep.view(targets.shape).sum(1)\n"
             "    return torch.exp(per_poem).mean().item()",
             loses=("test_masked_perplexity",), why="mean of the poems' perplexities instead of one mean over tokens"),
    # top_k_sample
    Mutation("topk_no_ban", "top_k_sample", "    if banned:\n        z[banned] = -math.inf\n", "",
             loses=("test_top_k_sample",), why="special tokens are not excluded: can return the padding token"),
    Mutation("topk_uniform", "top_k_sample", "probs = torch.softmax(top.values, dim=0).numpy()",
             "probs = np.ones(len(top.values)) / len(top.values)",
             loses=("test_top_k_sample",), why="draws uniformly among the top k"),
    Mutation("topk_temperature_times", "top_k_sample", ".to(torch.float64) / temperature",
             ".to(torch.float64) * temperature",
             loses=("test_top_k_sample",), why="multiplies the logits by the temperature"),
    Mutation("topk_ban_after_cut", "top_k_sample",
             "    if banned:\n        z[banned] = -math.inf\n    top = torch.topk(z, min(k, int(torch.isfinite(z).sum())))\n",
             "    top = torch.topk(z, min(k, int(torch.isfinite(z).sum())))\n"
             "    if banned:\n        top.values[torch.isin(top.indices, torch.tensor(banned))] = -math.inf\n",
             loses=("test_top_k_sample",), why="bans after taking the top k: fewer than k tokens left to draw from"),
    # generate_quatrain
    Mutation("quatrain_pad_allowed", "generate_quatrain", "[vocab[t] for t in SPECIALS + PUNCTUATION]",
             "[vocab[t] for t in SPECIALS[1:] + PUNCTUATION]",
             loses=("test_generate_quatrain",), why="the padding token is not banned"),
    Mutation("quatrain_start_not_fed", "generate_quatrain",
             "model(torch.tensor([[vocab[BOS], vocab[start_char]]]))", "model(torch.tensor([[vocab[BOS]]]))",
             loses=("test_generate_quatrain",), why="the start character is written but never fed to the model"),
    Mutation("quatrain_six_char_verses", "generate_quatrain", "if pos % 8 == 7:", "if pos % 7 == 6:",
             loses=("test_generate_quatrain",), why="wrong verse length: punctuation after 6 characters"),
    Mutation("quatrain_forced_not_fed", "generate_quatrain",
             "            text.append(char)\n            logits, state = model(torch.tensor([[vocab[char]]]), state)\n",
             "            text.append(char)\n            if pos % 8 != 7:\n"
             "                logits, state = model(torch.tensor([[vocab[char]]]), state)\n",
             loses=("test_generate_quatrain",), why="writes the punctuation but never feeds it to the model"),
    # generate_acrostic
    Mutation("acrostic_head_second", "generate_acrostic", "if pos == 0:", "if pos == 1:",
             loses=("test_generate_acrostic",), why="the head character lands in the second place of the verse"),
    Mutation("acrostic_state_reset", "generate_acrostic",
             "        logits, state = model(torch.tensor([[vocab[BOS]]]))\n        for verse in range(4):\n",
             "        for verse in range(4):\n            logits, state = model(torch.tensor([[vocab[BOS]]]))\n",
             loses=("test_generate_acrostic",), why="restarts from <s> at every verse: four unrelated verses"),
    Mutation("acrostic_punctuation_swapped", "generate_acrostic", '"，" if verse % 2 == 0 else "。"',
             '"。" if verse % 2 == 0 else "，"',
             loses=("test_generate_acrostic",), why="full stop and comma swapped"),
]

# Correct solutions written another way: they must keep full marks.
ALTERNATIVES = [
    ("alt_written_otherwise", "build_vocab", '''def build_vocab(poems, min_freq):
    counts = {}
    for poem in poems:
        for ch in poem:
            counts[ch] = counts.get(ch, 0) + 1
    vocab = {PAD: 0, BOS: 1, EOS: 2, UNK: 3}
    for ch in sorted(counts, key=lambda c: (-counts[c], c)):
        if counts[ch] >= min_freq:
            vocab[ch] = len(vocab)
    return vocab
'''),
    ("alt_written_otherwise", "encode_fixed_length", '''def encode_fixed_length(poem, vocab, length=80):
    tokens = [BOS] + [ch if ch in vocab else UNK for ch in poem] + [EOS]
    out = []
    for token in tokens:
        if len(out) == length:
            break
        out.append(vocab[token])
    while len(out) < length:
        out.insert(0, vocab[PAD])
    return out
'''),
    ("alt_written_otherwise", "split_poems", '''def split_poems(poems, seed):
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(len(poems), size=len(poems) // 5, replace=False).tolist())
    test = [p for i, p in enumerate(poems) if i in chosen]
    train = [p for i, p in enumerate(poems) if i not in chosen]
    return train, test
'''),
    ("alt_written_otherwise", "MyLSTM", '''class MyLSTM(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        std = (2.0 / (input_size + hidden_size)) ** 0.5
        self.Wxi = nn.Parameter(std * torch.randn(input_size, hidden_size))
        self.Whi = nn.Parameter(std * torch.randn(hidden_size, hidden_size))
        self.bi = nn.Parameter(torch.zeros(hidden_size))
        self.Wxf = nn.Parameter(std * torch.randn(input_size, hidden_size))
        self.Whf = nn.Parameter(std * torch.randn(hidden_size, hidden_size))
        self.bf = nn.Parameter(torch.ones(hidden_size))
        self.Wxc = nn.Parameter(std * torch.randn(input_size, hidden_size))
        self.Whc = nn.Parameter(std * torch.randn(hidden_size, hidden_size))
        self.bc = nn.Parameter(torch.zeros(hidden_size))
        self.Wxo = nn.Parameter(std * torch.randn(input_size, hidden_size))
        self.Who = nn.Parameter(std * torch.randn(hidden_size, hidden_size))
        self.bo = nn.Parameter(torch.zeros(hidden_size))

    def forward(self, x, state=None):
        B, T, _ = x.shape
        if state is None:
            h = torch.zeros(B, self.hidden_size, dtype=x.dtype, device=x.device)
            c = torch.zeros_like(h)
        else:
            h, c = state[0].squeeze(0), state[1].squeeze(0)
        hs = []
        for t in range(T):
            xt = x[:, t, :]
            i = torch.sigmoid(xt @ self.Wxi + h @ self.Whi + self.bi)
            f = torch.sigmoid(xt @ self.Wxf + h @ self.Whf + self.bf)
            g = torch.tanh(xt @ self.Wxc + h @ self.Whc + self.bc)
            o = torch.sigmoid(xt @ self.Wxo + h @ self.Who + self.bo)
            c = f * c + i * g
            h = o * torch.tanh(c)
            hs.append(h.unsqueeze(1))
        return torch.cat(hs, dim=1), (h[None], c[None])
'''),
    ("alt_written_otherwise", "masked_loss", '''def masked_loss(logits, targets, pad_id):
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=pad_id)
'''),
    ("alt_written_otherwise", "masked_perplexity", '''def masked_perplexity(logits, targets, pad_id):
    return math.exp(masked_loss(logits, targets, pad_id).item())
'''),
    ("alt_written_otherwise", "top_k_sample", '''def top_k_sample(logits, k, rng, temperature=1.0, banned=()):
    z = logits.detach().cpu().numpy().astype(np.float64) / temperature
    allowed = np.array([j for j in range(z.size) if j not in set(int(b) for b in banned)])
    best = allowed[np.argsort(-z[allowed], kind="stable")[:k]]
    p = np.exp(z[best] - z[best].max())
    return int(best[rng.choice(best.size, p=p / p.sum())])
'''),
    # no state: the whole prompt and poem so far go through the model at every step
    ("alt_written_otherwise", "generate_quatrain", '''def generate_quatrain(model, vocab, start_char, rng, top_k=10, temperature=1.0):
    itos = {i: t for t, i in vocab.items()}
    banned = [vocab[t] for t in (PAD, BOS, EOS, UNK, "，", "。")]
    fed = [vocab[BOS], vocab[start_char]]
    with torch.no_grad():
        while len(fed) < 33:
            position = len(fed) - 1
            if position in (7, 23):
                fed.append(vocab["，"])
            elif position in (15, 31):
                fed.append(vocab["。"])
            else:
                logits, _ = model(torch.tensor([fed]))
                fed.append(top_k_sample(logits[0, -1], top_k, rng, temperature, banned))
    return "".join(itos[i] for i in fed[1:])
'''),
    ("alt_written_otherwise", "generate_acrostic", '''def generate_acrostic(model, vocab, heads, rng, top_k=10, temperature=1.0):
    itos = {i: t for t, i in vocab.items()}
    banned = [vocab[t] for t in SPECIALS] + [vocab[p] for p in PUNCTUATION]
    poem = ""
    with torch.no_grad():
        logits, state = model(torch.tensor([[vocab[BOS]]]))
        for position in range(32):
            if position % 8 == 0:
                char = heads[position // 8]
            elif position % 8 == 7:
                char = PUNCTUATION[(position // 8) % 2]
            else:
                char = itos[top_k_sample(logits[0, -1], top_k, rng, temperature, banned)]
            poem += char
            logits, state = model(torch.tensor([[vocab[char]]]), state)
    return poem
'''),
]

# Submissions that return the visible tests' expected values for the visible inputs (read from
# helpers/expected, which students have, and shown in the released test cells) and garbage
# otherwise: they pass every visible check and must lose the hidden ones.
HARD_CODERS = [
    Rewrite("hard_coder", (
        ("encode_fixed_length", '''from helpers.checks import expected as visible

def encode_fixed_length(poem, vocab, length=80):
    seen = {("花月", 6): [0, 0, 1, 7, 8, 2], ("花龍", 4): [1, 7, 3, 2], ("春花月夜山水", 5): [1, 6, 7, 8, 9]}
    if (poem, length) in seen:
        return seen[poem, length]
    if length == 40 and len(vocab) == 14:
        return [int(i) for i in visible("a6.encode.corpus0_len40")]
    return [vocab[PAD]] * length
'''),
        ("masked_loss", '''from helpers.checks import expected as visible

def masked_loss(logits, targets, pad_id):
    if tuple(logits.shape) == (2, 4, 6):
        return torch.tensor(float(visible("a6.masked_loss.example")), dtype=logits.dtype)
    return logits.sum() * 0.0
'''),
        ("masked_perplexity", '''from helpers.checks import expected as visible

def masked_perplexity(logits, targets, pad_id):
    shapes = {(2, 4, 6): "a6.perplexity.example", (2, 6, 8): "a6.perplexity.uneven"}
    if tuple(logits.shape) in shapes:
        return float(visible(shapes[tuple(logits.shape)]))
    return float(logits.shape[-1])
'''),
    ), loses=("test_encode_fixed_length", "test_masked_loss", "test_masked_perplexity"),
        why="returns the visible expected values for the visible inputs"),
]
