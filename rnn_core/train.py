"""One training loop for the CLI, the app's training page and the gradient lab.

Adam on BCE-with-logits, packed padded batches, embedding dropout, optional gradient clipping (the norm before
clipping is logged), early stopping on validation accuracy, fixed seeds (same seed and thread count -> the same
weights and metrics). `progress` receives plain dicts so the caller decides how to show them (tqdm, st.progress,
nothing): {"kind": "batch", ...} after each batch and {"kind": "epoch", ...} after each epoch.

The options past the seed recipe (prefix loss, small embedding init, word and rare-word dropout, neutral texts, ...)
all default to off; the shipped recipes in recipes.py turn on the ones that helped on validation (docs/training.md).
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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
    rare_dropout: float = 0.0  # alpha: also replace a word seen n times in training by <unk> with p = alpha/(alpha+n)
    clip: float | None = 1.0  # max gradient norm; None turns clipping off
    min_count: int = 2
    max_vocab: int | None = None
    lemmatize: bool = False
    patience: int = 3  # epochs without a better validation accuracy before stopping
    seed: int = 13
    time_limit: float | None = None  # seconds; training stops (keeping the best weights) when it runs out
    max_batches: int | None = None  # stop after this many batches in total (the CLI's --dry-run uses 1)
    bucket: bool = True  # batch sentences of similar length: fewer recurrent steps per batch, ~2x faster on CPU
    prefix_weight: float = 0.0  # weight of the auxiliary loss on every earlier prefix (see train_step_loss)
    emb_init: float | None = None  # std of the initial embedding; None keeps PyTorch's N(0, 1)
    forget_bias: float | None = None  # LSTM only: start the forget gate's bias here (1.0: remember by default)
    neutral_weight: float = 0.0  # weight of the neutral texts (target 0.5) in the loss; 0 leaves them out
    ema: float = 0.0  # decay of the moving average of the weights that is evaluated and kept; 0 = raw weights
    weight_drop: float = 0.0  # DropConnect on the recurrent (hidden-to-hidden) weights (see step_outputs)
    threads: int = 1  # torch threads while training; small recurrent matmuls gain nothing from more, and a fixed
    # count keeps float reductions, hence the metrics, identical between runs

    def check(self) -> None:
        """Refuse settings that are out of range or would not fit the loader's limits (rnn_core/limits.py), before a
        single weight is allocated: a model trained here must always load again."""
        from math import isfinite

        from . import limits

        if self.cell not in CELLS:
            raise InputError(f"Unknown cell '{self.cell}': choose one of {', '.join(CELLS)}.")
        for name, cap in (("emb_dim", limits.MAX_EMB_DIM), ("hidden_dim", limits.MAX_HIDDEN_DIM),
                          ("max_len", limits.MAX_LEN_CAP), ("epochs", limits.MAX_EPOCHS),
                          ("batch_size", limits.MAX_BATCH), ("min_count", 10**9), ("threads", 64),
                          ("patience", 10**6)):
            if not 1 <= getattr(self, name) <= cap:
                raise InputError(f"{name} must be between 1 and {cap:,}.")
        if self.max_vocab is not None and not 1 <= self.max_vocab <= limits.MAX_VOCAB:
            raise InputError(f"max_vocab must be between 1 and {limits.MAX_VOCAB:,}.")
        floats = ("lr", "lr_decay", "weight_decay", "dropout", "word_dropout", "rare_dropout", "prefix_weight",
                  "neutral_weight", "ema", "weight_drop", "clip", "time_limit", "emb_init", "forget_bias")
        if not all(getattr(self, n) is None or isfinite(getattr(self, n)) for n in floats):
            raise InputError("Every setting must be a finite number (no nan or inf).")
        if not all(0 <= getattr(self, n) < 1 for n in ("dropout", "word_dropout", "weight_drop", "ema")):
            raise InputError("dropout, word_dropout, weight_drop and ema must be in [0, 1).")
        if min(self.rare_dropout, self.prefix_weight, self.neutral_weight, self.weight_decay) < 0:
            raise InputError("rare_dropout, prefix_weight, neutral_weight and weight_decay must be >= 0.")
        if not 0 < self.lr <= 10:
            raise InputError("The learning rate must be positive (and at most 10).")
        if not 0 < self.lr_decay <= 1:
            raise InputError("lr_decay must be in (0, 1]: the learning rate is multiplied by it after each epoch.")
        for name in ("clip", "time_limit", "emb_init"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise InputError(f"{name} must be positive (or left out).")
        if self.max_batches is not None and self.max_batches < 1:
            raise InputError("max_batches must be at least 1.")
        vocab = (self.max_vocab or 0) + 2
        if limits.n_params(self.cell, vocab, self.emb_dim, self.hidden_dim) > limits.MAX_PARAMS:
            raise InputError(f"These sizes make a model over the limit of {limits.MAX_PARAMS:,} parameters.")


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


@torch.no_grad()
def init_weights(model: SentimentRNN, cfg: TrainConfig) -> None:
    """Initialisation choices the architecture leaves open. N(0, 1) embeddings feed inputs of norm ~10 into the
    gates, saturating them from the first step; a small std starts the recurrent layer in its sensitive range.
    A forget bias of 1 makes a fresh LSTM keep its memory by default (Jozefowicz et al. 2015)."""
    if cfg.emb_init is not None:
        model.embedding.weight.normal_(0.0, cfg.emb_init)
        model.embedding.weight[model.embedding.padding_idx].zero_()
    if cfg.forget_bias is not None and cfg.cell == "lstm":
        h = cfg.hidden_dim  # PyTorch's gate order is input, forget, cell, output; two biases are summed
        model.rnn.bias_ih_l0[h:2 * h] = cfg.forget_bias / 2
        model.rnn.bias_hh_l0[h:2 * h] = cfg.forget_bias / 2


def word_keep_probs(id_lists: list[list[int]], n_vocab: int, cfg: TrainConfig) -> torch.Tensor | None:
    """Per word id, the probability a training token keeps its id instead of becoming <unk>: uniform word dropout
    times frequency-scaled dropout alpha/(alpha + count) (Kiperwasser & Goldberg 2016). With Adam a word seen four
    times moves its embedding as far as a common one, so a rare word that happened to sit in negative texts ends
    up decisive on its own; dropping rare words more often makes the model lean on <unk> and the context instead."""
    if cfg.word_dropout == 0 and cfg.rare_dropout == 0:
        return None
    counts = torch.bincount(torch.tensor([i for ids in id_lists for i in ids]), minlength=n_vocab).float()
    return (1 - cfg.word_dropout) * (1 - cfg.rare_dropout / (cfg.rare_dropout + counts).clamp(min=1e-9))


def make_batches(lengths: list[int], batch_size: int, gen: torch.Generator, bucket: bool) -> list[list[int]]:
    """Shuffled batches of indices. With `bucket`, each window of 50 batches is sorted by length before it is cut,
    so a batch holds sentences of similar length; the batches themselves are then shuffled."""
    order = torch.randperm(len(lengths), generator=gen).tolist()
    if not bucket:
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    window, batches = 50 * batch_size, []
    for s in range(0, len(order), window):
        part = sorted(order[s:s + window], key=lambda i: lengths[i])  # stable sort: deterministic
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]


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
          should_stop: Callable[[], bool] | None = None, vocab: Vocab | None = None,
          neutral: list[str] | None = None,
          init_embedding: Callable[[SentimentRNN, Vocab], None] | None = None) -> TrainResult:
    """Train a fresh SentimentRNN. The weights returned are those of the epoch with the best validation accuracy.

    `init_embedding(model, vocab)` runs after the initialisation and before the first step: the hook through which
    pretrained word vectors are written into the embedding table.

    `neutral` texts (annotated as neither positive nor negative; never validation or test texts) join the vocabulary
    and the training set with the target P(positive) = 0.5 when cfg.neutral_weight > 0.
    """
    cfg.check()
    check_trainable(train_ds)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, train_ds, val_ds, progress, should_stop, vocab, neutral or [], init_embedding)
    finally:
        torch.set_num_threads(threads)


def _train(cfg, train_ds, val_ds, progress, should_stop, vocab, neutral, init_embedding) -> TrainResult:
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    if cfg.neutral_weight == 0:
        neutral = []
    vocab = vocab or Vocab.build(train_ds.texts + neutral, cfg.min_count, cfg.max_vocab, cfg.lemmatize)
    x_train = encode_all(vocab, train_ds.texts, cfg.max_len)
    n_labelled = len(x_train)
    # Neutral texts train towards 0.5 with their own weight; accuracies count the labelled texts only.
    x_train += encode_all(vocab, neutral, cfg.max_len)
    y_train = torch.tensor(train_ds.labels + [0.5] * len(neutral)).float()
    w_train = torch.tensor([1.0] * n_labelled + [cfg.neutral_weight] * len(neutral))
    x_val = encode_all(vocab, val_ds.texts, cfg.max_len)
    model = SentimentRNN(len(vocab), cfg.cell, cfg.emb_dim, cfg.hidden_dim, cfg.dropout)
    init_weights(model, cfg)
    if init_embedding is not None:
        with torch.no_grad():
            init_embedding(model, vocab)
    res = TrainResult(model, vocab, cfg)

    def stop_reason(n_batches_done: int) -> str | None:
        if should_stop is not None and should_stop():
            return "user"
        if cfg.time_limit is not None and time.perf_counter() - start > cfg.time_limit:
            return "time_limit"
        if cfg.max_batches is not None and n_batches_done >= cfg.max_batches:
            return "max_batches"
        return None

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay)
    best_state, since_best, n_batches_done = None, 0, 0
    # Exponential moving average of the weights (Polyak averaging): evaluated and kept instead of the raw weights,
    # it smooths out the last steps' noise, so the epoch picked on validation is less of a lucky draw.
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()} if cfg.ema else None
    lengths = [len(x) for x in x_train]
    keep_p = word_keep_probs(x_train, len(vocab), cfg)

    for epoch in range(1, cfg.epochs + 1):
        model.train()
        batches = make_batches(lengths, cfg.batch_size, gen, cfg.bucket)
        tot_loss = tot_correct = seen = seen_labelled = 0
        norms = []
        reason = None
        for b, idx in enumerate(batches):
            ids, lens = pad_batch([x_train[i] for i in idx])
            if keep_p is not None:
                drop = (torch.rand(ids.shape, generator=gen) >= keep_p[ids]) & (ids != vocab.pad_id)
                ids = ids.masked_fill(drop, vocab.unk_id)
            y, w = y_train[idx], w_train[idx]
            logits, loss = train_step_loss(model, ids, lens, y, w, cfg)
            opt.zero_grad()
            loss.backward()
            # clip_grad_norm_ returns the norm *before* clipping: that is what shows an explosion.
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), cfg.clip if cfg.clip else float("inf")))
            norms.append(norm)
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for k, v in model.state_dict().items():
                        ema[k].lerp_(v, 1 - cfg.ema)
            n_batches_done += 1
            labelled = y != 0.5
            tot_loss += loss.item() * len(idx)
            tot_correct += int(((logits > 0).float() == y)[labelled].sum())
            seen += len(idx)
            seen_labelled += int(labelled.sum())
            if progress:
                progress({"kind": "batch", "epoch": epoch, "batch": b + 1,
                          "n_batches": len(batches), "loss": loss.item(), "grad_norm": norm})
            reason = stop_reason(n_batches_done)
            if reason:
                break
        sched.step()
        if ema is not None:
            raw = copy.deepcopy(model.state_dict())
            model.load_state_dict(ema)
        val_acc, val_loss = _val_scores(model, x_val, val_ds.labels)
        rec = {"epoch": epoch, "train_loss": tot_loss / max(seen, 1),
               "train_accuracy": tot_correct / max(seen_labelled, 1), "val_loss": val_loss, "val_accuracy": val_acc,
               "grad_norm_mean": sum(norms) / max(len(norms), 1), "grad_norm_max": max(norms, default=0.0),
               "lr": opt.param_groups[0]["lr"], "seconds": time.perf_counter() - start,
               "partial": reason is not None and seen < len(x_train)}
        res.history.append(rec)
        if best_state is None or rec["val_accuracy"] > res.best_val_accuracy:
            best_state, res.best_epoch, res.best_val_accuracy, since_best = copy.deepcopy(model.state_dict()), \
                epoch, rec["val_accuracy"], 0
        else:
            since_best += 1
        if ema is not None:
            model.load_state_dict(raw)
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


def step_outputs(model: SentimentRNN, ids: torch.Tensor, lens: torch.Tensor, weight_drop: float = 0.0) -> torch.Tensor:
    """Hidden states after every real token, (batch, time, hidden), zeros after each sentence's end.

    `weight_drop` is DropConnect on the hidden-to-hidden matrix (Merity et al. 2018, AWD-LSTM): one mask per batch,
    the same at every time step, so the recurrence itself is regularised, which dropout on inputs cannot do."""
    packed = pack_padded_sequence(model.drop(model.embedding(ids)), lens, batch_first=True, enforce_sorted=False)
    if weight_drop > 0 and model.training:
        params = dict(model.rnn.named_parameters())
        params["weight_hh_l0"] = nn.functional.dropout(params["weight_hh_l0"], weight_drop)
        out = torch.func.functional_call(model.rnn, params, (packed,))[0]
    else:
        out = model.rnn(packed)[0]
    return pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])[0]


def train_step_loss(model: SentimentRNN, ids: torch.Tensor, lens: torch.Tensor, y: torch.Tensor, w: torch.Tensor,
                    cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Last-token logits and the training loss: BCE on the last token, plus cfg.prefix_weight x the mean BCE of the
    same classifier on every earlier prefix ("target replication", Lipton et al. 2016). Inference is unchanged (it
    reads the last token only); the extra targets give the recurrent layer a short gradient path from every word,
    which the plain RNN, whose gradient from the last token fades over a 20-word sentence, needs most.
    `w` weighs each sentence (neutral texts may count less); the loss is the weighted mean."""
    logits_t = model.fc(model.drop(step_outputs(model, ids, lens, cfg.weight_drop))).squeeze(-1)  # (batch, time)
    last = logits_t[torch.arange(len(lens)), lens - 1]
    bce = nn.functional.binary_cross_entropy_with_logits
    loss = (bce(last, y, reduction="none") * w).sum() / w.sum()
    if cfg.prefix_weight > 0:
        mask = (torch.arange(ids.shape[1]) < (lens - 1)[:, None]) * w[:, None]  # earlier prefixes only
        per_step = bce(logits_t, y[:, None].expand_as(logits_t), reduction="none")
        loss = loss + cfg.prefix_weight * (per_step * mask).sum() / mask.sum().clamp(min=1e-9)
    return last, loss


def _val_scores(model: SentimentRNN, id_lists: list[list[int]], labels: list[int]) -> tuple[float, float]:
    """Accuracy and mean BCE on the validation split, from one pass."""
    if not labels:
        return 0.0, float("nan")
    p, y = predict_ids(model, id_lists).clamp(1e-7, 1 - 1e-7), torch.tensor(labels).float()
    return float(((p >= 0.5).float() == y).float().mean()), float(-(y * p.log() + (1 - y) * (1 - p).log()).mean())


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
