"""One training loop for the CLI, the app's training page and the gradient lab.

Adam on BCE-with-logits, packed padded batches, embedding dropout, optional gradient clipping (the norm before
clipping is logged), early stopping on validation accuracy, fixed seeds. `progress` receives plain dicts so the
caller decides how to show them (tqdm, st.progress, nothing).
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .data import Dataset
from .errors import InputError
from .model import CELLS, SentimentRNN, pad_batch
from .text import MAX_LEN, Vocab


@dataclass
class TrainConfig:
    cell: str = "lstm"
    emb_dim: int = 100
    hidden_dim: int = 128
    max_len: int = MAX_LEN
    epochs: int = 12
    batch_size: int = 64
    lr: float = 2e-3
    lr_decay: float = 1.0  # multiply the learning rate by this after each epoch
    weight_decay: float = 0.0
    dropout: float = 0.5  # on embeddings and on the final hidden state
    word_dropout: float = 0.0  # replace this share of training tokens by <unk>, so the model learns to cope
    clip: float | None = 1.0  # max gradient norm; None turns clipping off
    min_count: int = 2
    max_vocab: int | None = None
    lemmatize: bool = False
    patience: int = 3  # epochs without a better validation accuracy before stopping
    seed: int = 13
    time_limit: float | None = None  # seconds; training stops (keeping the best weights) when it runs out
    max_batches: int | None = None  # stop after this many batches in total (the CLI's --dry-run uses 1)

    def check(self) -> None:
        if self.cell not in CELLS:
            raise InputError(f"Unknown cell '{self.cell}': choose one of {', '.join(CELLS)}.")
        for name in ("emb_dim", "hidden_dim", "max_len", "epochs", "batch_size", "min_count"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1.")
        if not (0 <= self.dropout < 1 and 0 <= self.word_dropout < 1):
            raise InputError("Dropout must be in [0, 1).")
        if not self.lr > 0:
            raise InputError("The learning rate must be positive.")


@dataclass
class TrainResult:
    model: SentimentRNN
    vocab: Vocab
    config: TrainConfig
    history: list[dict] = field(default_factory=list)  # one dict per finished epoch
    best_epoch: int = 0
    best_val_accuracy: float = 0.0
    seconds: float = 0.0
    stopped: str = "epochs"  # why training ended: epochs | early_stopping | time_limit | user | max_batches


def encode_all(vocab: Vocab, texts: list[str], max_len: int) -> list[list[int]]:
    return [vocab.encode(t, max_len).ids or [vocab.unk_id] for t in texts]


def check_trainable(ds: Dataset, name: str = "training data", min_rows: int = 20) -> None:
    if len(ds) < min_rows:
        raise InputError(f"The {name} has {len(ds)} usable rows; at least {min_rows} are needed.")
    n_pos = sum(ds.labels)
    if n_pos == 0 or n_pos == len(ds):
        raise InputError(f"The {name} has only one class; it needs both positive and negative examples.")


@torch.no_grad()
def predict_ids(model: SentimentRNN, id_lists: list[list[int]], batch_size: int = 512) -> torch.Tensor:
    model.eval()
    out = [model.predict_proba(*pad_batch(id_lists[i:i + batch_size])) for i in range(0, len(id_lists), batch_size)]
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: SentimentRNN, vocab: Vocab, texts: list[str], labels: list[int], max_len: int = MAX_LEN) -> dict:
    """Accuracy, count and confusion matrix {"tn","fp","fn","tp"} (positive = 1)."""
    p = predict_ids(model, encode_all(vocab, texts, max_len))
    pred, y = (p >= 0.5).long(), torch.tensor(labels)
    conf = {"tn": int(((pred == 0) & (y == 0)).sum()), "fp": int(((pred == 1) & (y == 0)).sum()),
            "fn": int(((pred == 0) & (y == 1)).sum()), "tp": int(((pred == 1) & (y == 1)).sum())}
    return {"accuracy": float((pred == y).float().mean()) if len(y) else float("nan"), "n": len(y),
            "confusion": conf}


def train(cfg: TrainConfig, train_ds: Dataset, val_ds: Dataset, progress: Callable[[dict], None] | None = None,
          should_stop: Callable[[], bool] | None = None, vocab: Vocab | None = None) -> TrainResult:
    """Train a fresh SentimentRNN. The weights returned are those of the epoch with the best validation accuracy."""
    cfg.check()
    check_trainable(train_ds)
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    vocab = vocab or Vocab.build(train_ds.texts, cfg.min_count, cfg.max_vocab, cfg.lemmatize)
    x_train, y_train = encode_all(vocab, train_ds.texts, cfg.max_len), torch.tensor(train_ds.labels).float()
    x_val = encode_all(vocab, val_ds.texts, cfg.max_len)
    model = SentimentRNN(len(vocab), cfg.cell, cfg.emb_dim, cfg.hidden_dim, cfg.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    res = TrainResult(model, vocab, cfg)
    best_state, since_best, n_batches_done = None, 0, 0
    n_batches = math.ceil(len(x_train) / cfg.batch_size)

    def stop_reason() -> str | None:
        if should_stop is not None and should_stop():
            return "user"
        if cfg.time_limit is not None and time.perf_counter() - start > cfg.time_limit:
            return "time_limit"
        if cfg.max_batches is not None and n_batches_done >= cfg.max_batches:
            return "max_batches"
        return None

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=gen).tolist()
        tot_loss = tot_correct = seen = 0
        norms = []
        reason = None
        for b in range(n_batches):
            idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            ids, lengths = pad_batch([x_train[i] for i in idx])
            if cfg.word_dropout > 0:
                drop = (torch.rand(ids.shape, generator=gen) < cfg.word_dropout) & (ids != vocab.pad_id)
                ids = ids.masked_fill(drop, vocab.unk_id)
            y = y_train[idx]
            logits = model(ids, lengths)
            loss = loss_fn(logits, y)
            opt.zero_grad()
            loss.backward()
            # clip_grad_norm_ returns the norm *before* clipping: that is what shows an explosion.
            norm = nn.utils.clip_grad_norm_(model.parameters(), cfg.clip if cfg.clip else float("inf"))
            norms.append(float(norm))
            opt.step()
            n_batches_done += 1
            tot_loss += float(loss) * len(idx)
            tot_correct += int(((logits > 0).float() == y).sum())
            seen += len(idx)
            if progress:
                progress({"kind": "batch", "epoch": epoch, "batch": b + 1, "n_batches": n_batches,
                          "loss": float(loss), "grad_norm": float(norm)})
            reason = stop_reason()
            if reason:
                break
        sched.step()
        val = evaluate(model, vocab, val_ds.texts, val_ds.labels, cfg.max_len) if len(val_ds) else {"accuracy": 0.0}
        val_loss = _loss(model, x_val, val_ds.labels) if len(val_ds) else float("nan")
        rec = {"epoch": epoch, "train_loss": tot_loss / max(seen, 1), "train_accuracy": tot_correct / max(seen, 1),
               "val_loss": val_loss, "val_accuracy": val["accuracy"], "grad_norm_mean": sum(norms) / max(len(norms), 1),
               "grad_norm_max": max(norms, default=0.0), "lr": opt.param_groups[0]["lr"],
               "seconds": time.perf_counter() - start, "partial": reason is not None and seen < len(x_train)}
        res.history.append(rec)
        if best_state is None or rec["val_accuracy"] > res.best_val_accuracy:
            best_state, res.best_epoch, res.best_val_accuracy, since_best = copy.deepcopy(model.state_dict()), \
                epoch, rec["val_accuracy"], 0
        else:
            since_best += 1
        if progress:
            progress({"kind": "epoch", **rec})
        if reason:
            res.stopped = reason
            break
        if since_best >= cfg.patience:
            res.stopped = "early_stopping"
            break
    model.load_state_dict(best_state)
    model.eval()
    res.seconds = time.perf_counter() - start
    return res


@torch.no_grad()
def _loss(model: SentimentRNN, id_lists: list[list[int]], labels: list[int]) -> float:
    p = predict_ids(model, id_lists).clamp(1e-7, 1 - 1e-7)
    y = torch.tensor(labels).float()
    return float(-(y * p.log() + (1 - y) * (1 - p).log()).mean())


def tfidf_baseline(train: Dataset, val: Dataset, test: Dataset, seed: int = 0) -> dict | None:
    """Test accuracy of TF-IDF (word 1-2-grams, our tokenizer) + logistic regression on the same split, with C
    chosen on the validation split. scikit-learn is a dev dependency: without it there is no baseline (None)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    from .text import tokenize

    vec = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=(1, 2),
                          sublinear_tf=True)
    x_train, x_val, x_test = vec.fit_transform(train.texts), vec.transform(val.texts), vec.transform(test.texts)
    best = None
    for c in (0.25, 1.0, 4.0, 16.0):
        clf = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(x_train, train.labels)
        val_acc = float((clf.predict(x_val) == val.labels).mean())
        if best is None or val_acc > best[0]:
            best = (val_acc, c, clf)
    val_acc, c, clf = best
    return {"model": f"TF-IDF (word 1-2-grams, sublinear tf) + LogisticRegression(C={c}, chosen on validation)",
            "val_accuracy": val_acc, "test_accuracy": float((clf.predict(x_test) == test.labels).mean())}


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
