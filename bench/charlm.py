"""The kit's strongest character model for Tiny Shakespeare: a batched torch char-LSTM, trained on a
time budget. bench/quality.py measures it; it is not part of any assignment.

Why these choices (validation nats/char after 3 minutes on 2 cores, one run each, 2026-11-23):
- B parallel streams over the training text, each read in order with its state carried between
  chunks (truncated BPTT, as char-rnn): every character is used once per epoch, and the model
  sees context longer than one chunk;
- in 3 minutes, epochs matter more than width: H = 512 (batch 64, lr 3e-3) 1.89 after 1.8 epochs,
  H = 384 1.71 (2.9 epochs), H = 256 1.70 (4.5 epochs);
- batch 32 rather than 64: as many characters per second here and twice the updates: H = 256
  1.56, H = 384 1.56; then lr 6e-3 rather than 3e-3: 1.52 (the default below);
- Adam with the learning rate decayed linearly to 10% over the time budget, gradient norm clipped
  at 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class CharLMConfig:
    hidden: int = 256
    layers: int = 1
    embedding: int = 64
    batch: int = 32
    seq_len: int = 128
    lr: float = 6e-3
    final_lr_fraction: float = 0.1
    clip: float = 1.0
    dropout: float = 0.0


class CharLM(nn.Module):
    """Embedding -> LSTM -> linear; tokens (B, T) int64 -> logits (B, T, V)."""

    def __init__(self, vocab_size: int, cfg: CharLMConfig):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, cfg.embedding)
        self.lstm = nn.LSTM(cfg.embedding, cfg.hidden, cfg.layers, batch_first=True,
                            dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden, vocab_size)

    def forward(self, tokens, state=None):
        hidden, state = self.lstm(self.embed(tokens), state)
        return self.out(self.drop(hidden)), state


def streams(encoded: np.ndarray, batch: int) -> torch.Tensor:
    """The text cut into `batch` contiguous rows of equal length: (batch, len(encoded) // batch)."""
    n = len(encoded) // batch
    return torch.as_tensor(np.asarray(encoded[:n * batch], dtype=np.int64).reshape(batch, n))


def detach(state):
    return tuple(s.detach() for s in state)


@torch.no_grad()
def nats_per_char(model: CharLM, encoded: np.ndarray, batch: int = 16, seq_len: int = 256) -> float:
    """Mean cross-entropy (nats) of every next character of `encoded`, read as `batch` streams with
    the state carried along each stream (the first character of each stream has no context)."""
    was_training = model.training
    model.eval()
    rows = streams(encoded, batch)
    total, count, state = 0.0, 0, None
    for start in range(0, rows.shape[1] - 1, seq_len):
        chunk = rows[:, start:start + seq_len + 1]
        logits, state = model(chunk[:, :-1], state)
        total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1),
                                             reduction="sum").item()
        count += chunk[:, 1:].numel()
    model.train(was_training)
    return total / count


def trainer(train_ids: np.ndarray, vocab_size: int, total_s: float, cfg: CharLMConfig = CharLMConfig(),
            seed: int = 0):
    """A fresh CharLM and its step function `step(trained_s) -> loss`, one optimisation step on the next
    chunk of every stream; the learning rate decays linearly with the training time `trained_s`
    spent so far, from cfg.lr to cfg.lr * cfg.final_lr_fraction at `total_s`."""
    torch.manual_seed(seed)
    model = CharLM(vocab_size, cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rows = streams(train_ids, cfg.batch)
    at = {"pos": 0, "state": None}

    def step(trained_s: float) -> float:
        if at["pos"] + cfg.seq_len + 1 > rows.shape[1]:  # end of an epoch: start the streams again
            at["pos"], at["state"] = 0, None
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * (1 - (1 - cfg.final_lr_fraction) * min(trained_s / total_s, 1.0))
        chunk = rows[:, at["pos"]:at["pos"] + cfg.seq_len + 1]
        logits, state = model(chunk[:, :-1], at["state"])
        at["state"], at["pos"] = detach(state), at["pos"] + cfg.seq_len
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab_size), chunk[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
        return loss.item()

    step.optimizer = optimizer  # for inspection (its learning rate)
    return model, step
