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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
    prefix_weight: float = 0.0  # weight of the auxiliary loss on every earlier prefix (SentimentRNN.loss)
    emb_init: float | None = None  # std of the initial embedding; None keeps PyTorch's N(0, 1)
    forget_bias: float | None = None  # LSTM only: start the forget gate's bias here (1.0: remember by default)
    neutral_weight: float = 0.0  # weight of the neutral texts (target 0.5) in the loss; 0 leaves them out
    ema: float = 0.0  # decay of the moving average of the weights that is evaluated and kept; 0 = raw weights
    weight_drop: float = 0.0  # DropConnect on the recurrent (hidden-to-hidden) weights (SentimentRNN.forward)
    threads: int = 1  # torch threads while training; small recurrent matmuls gain nothing from more, and a fixed
    # count keeps float reductions, hence the metrics, identical between runs

    def check(self) -> None:
        """Refuse settings that are out of range or would not fit the loader's limits (rnn_core/limits.py), before a
        single weight is allocated: a model trained here must always load again."""
        from math import isfinite

        from . import limits

        if self.cell not in CELLS:
            raise InputError("unknown_cell", cell=str(self.cell), choices=", ".join(CELLS))
        for name, cap in (("emb_dim", limits.MAX_EMB_DIM), ("hidden_dim", limits.MAX_HIDDEN_DIM),
                          ("max_len", limits.MAX_LEN_CAP), ("epochs", limits.MAX_EPOCHS),
                          ("batch_size", limits.MAX_BATCH), ("min_count", 10**9), ("threads", 64),
                          ("patience", 10**6)):
            if not 1 <= getattr(self, name) <= cap:
                raise InputError("config_between", name=name, low=1, high=cap)
        if self.max_vocab is not None and not 1 <= self.max_vocab <= limits.MAX_VOCAB:
            raise InputError("config_between", name="max_vocab", low=1, high=limits.MAX_VOCAB)
        floats = ("lr", "lr_decay", "weight_decay", "dropout", "word_dropout", "rare_dropout", "prefix_weight",
                  "neutral_weight", "ema", "weight_drop", "clip", "time_limit", "emb_init", "forget_bias")
        if not all(getattr(self, n) is None or isfinite(getattr(self, n)) for n in floats):
            raise InputError("config_finite")
        if not all(0 <= getattr(self, n) < 1 for n in ("dropout", "word_dropout", "weight_drop", "ema")):
            raise InputError("config_fractions")
        if min(self.rare_dropout, self.prefix_weight, self.neutral_weight, self.weight_decay) < 0:
            raise InputError("config_nonnegative")
        if not 0 < self.lr <= 10:
            raise InputError("config_lr_range")
        if not 0 < self.lr_decay <= 1:
            raise InputError("config_lr_decay")
        for name in ("clip", "emb_init"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise InputError("config_positive", name=name)
        if self.time_limit is not None and self.time_limit < 0:  # 0 stops after the first batch
            raise InputError("config_time_limit")
        if self.max_batches is not None and self.max_batches < 1:
            raise InputError("config_at_least_1", name="max_batches")
        vocab = (self.max_vocab or 0) + 2
        if limits.n_params(self.cell, vocab, self.emb_dim, self.hidden_dim) > limits.MAX_PARAMS:
            raise InputError("config_too_many_params", limit=limits.MAX_PARAMS)


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
    rows = model.spec.memory_gate_slice(cfg.hidden_dim)
    if cfg.forget_bias is not None and model.spec.memory_gate == "forget":  # the LSTM's; the two biases are summed
        model.rnn.bias_ih_l0[rows] = cfg.forget_bias / 2
        model.rnn.bias_hh_l0[rows] = cfg.forget_bias / 2


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
    """Enough rows of both classes. (`name` is kept for callers; the messages say "the data" in every language.)"""
    if len(ds) < min_rows:
        raise InputError("too_few_rows", n=len(ds), min_rows=min_rows)
    n_pos = sum(ds.labels)
    if n_pos == 0 or n_pos == len(ds):
        raise InputError("one_class")


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

    `neutral` texts (annotated as neither positive nor negative; never validation or test texts) join the vocabulary
    and the training set with the target P(positive) = 0.5 when cfg.neutral_weight > 0. `init_embedding(model,
    vocab)` runs after the initialisation and before the first step: the hook through which pretrained word vectors
    are written into the embedding table.
    """
    cfg.check()
    check_trainable(train_ds)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        start = time.perf_counter()
        data = _encode(cfg, train_ds, val_ds, vocab, (neutral or []) if cfg.neutral_weight else [])
        model, drop_gen = _fresh_model(cfg, data.vocab, init_embedding)
        res = _fit(cfg, model, data, drop_gen, progress, _stopper(cfg, start, should_stop), start)
        res.seconds = time.perf_counter() - start
        return res
    finally:
        torch.set_num_threads(threads)


@dataclass
class _Data:
    vocab: Vocab
    x: list[list[int]]  # training ids: the labelled texts, then the neutral ones
    y: torch.Tensor  # targets: 0/1, and 0.5 for neutral texts
    w: torch.Tensor  # per-text weight in the loss
    x_val: list[list[int]]
    y_val: list[int]


def _encode(cfg: TrainConfig, train_ds: Dataset, val_ds: Dataset, vocab: Vocab | None, neutral: list[str]) -> _Data:
    vocab = vocab or Vocab.build(train_ds.texts + neutral, cfg.min_count, cfg.max_vocab, cfg.lemmatize)
    x = encode_all(vocab, train_ds.texts, cfg.max_len) + encode_all(vocab, neutral, cfg.max_len)
    # Neutral texts train towards 0.5 with their own weight; accuracies count the labelled texts only.
    y = torch.tensor(train_ds.labels + [0.5] * len(neutral)).float()
    w = torch.tensor([1.0] * len(train_ds) + [cfg.neutral_weight] * len(neutral))
    return _Data(vocab, x, y, w, encode_all(vocab, val_ds.texts, cfg.max_len), val_ds.labels)


_INIT_LOCK = threading.Lock()


def _fresh_model(cfg: TrainConfig, vocab: Vocab, init_embedding) -> tuple[SentimentRNN, torch.Generator]:
    """A model initialised from cfg.seed, and the generator its dropout masks will come from.

    PyTorch initialises modules from the global random stream, which every thread shares: two trainings started at
    once (two sessions of the app) would interleave their draws and lose "same seed → same weights". So the model
    is built under a lock in a forked copy of the global stream seeded with cfg.seed, and that stream, as it stands
    after initialisation, is handed on as this run's private dropout generator. A run then touches no shared random
    state, and its numbers are those a lone run seeded the same way always gave."""
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = SentimentRNN(len(vocab), cfg.cell, cfg.emb_dim, cfg.hidden_dim, cfg.dropout)
        init_weights(model, cfg)
        if init_embedding is not None:
            with torch.no_grad():
                init_embedding(model, vocab)
        drop_gen = torch.Generator()
        drop_gen.set_state(torch.get_rng_state())
    return model, drop_gen


def _stopper(cfg: TrainConfig, start: float, should_stop) -> Callable[[int], str | None]:
    """Why training must stop after `n` batches (None: go on): the user, the clock or the batch limit."""
    def reason(n: int) -> str | None:
        if should_stop is not None and should_stop():
            return "user"
        if cfg.time_limit is not None and time.perf_counter() - start > cfg.time_limit:
            return "time_limit"
        if cfg.max_batches is not None and n >= cfg.max_batches:
            return "max_batches"
        return None
    return reason


class _Averager:
    """Exponential moving average of the weights (Polyak averaging): evaluated and kept instead of the raw weights,
    it smooths out the last steps' noise, so the epoch picked on validation is less of a lucky draw."""

    def __init__(self, model: SentimentRNN, decay: float):
        self.model, self.decay = model, decay
        self.avg = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.raw = None

    def update(self) -> None:
        with torch.no_grad():
            for k, v in self.model.state_dict().items():
                self.avg[k].lerp_(v, 1 - self.decay)

    def swap_in(self) -> None:  # evaluate the average ...
        self.raw = copy.deepcopy(self.model.state_dict())
        self.model.load_state_dict(self.avg)

    def swap_out(self) -> None:  # ... and train on from the raw weights
        self.model.load_state_dict(self.raw)


@dataclass
class _Run:
    """What one training run carries from batch to batch."""

    cfg: TrainConfig
    model: SentimentRNN
    data: _Data
    drop_gen: torch.Generator  # dropout masks
    gen: torch.Generator  # shuffling and word dropout
    opt: torch.optim.Optimizer
    keep_p: torch.Tensor | None  # per word id, the probability of not being dropped to <unk>
    ema: _Averager | None
    progress: Callable[[dict], None] | None
    stop_reason: Callable[[int], str | None]
    n_done: int = 0  # batches so far


def _fit(cfg: TrainConfig, model: SentimentRNN, data: _Data, drop_gen: torch.Generator, progress,
         stop_reason, start: float) -> TrainResult:
    """Epochs until the last one, early stopping or a stop reason; keeps the weights of the best validation epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    run = _Run(cfg, model, data, drop_gen, torch.Generator().manual_seed(cfg.seed), opt,
               word_keep_probs(data.x, len(data.vocab), cfg), _Averager(model, cfg.ema) if cfg.ema else None,
               progress, stop_reason)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay)
    res = TrainResult(model, data.vocab, cfg)
    best_state, since_best = None, 0
    for epoch in range(1, cfg.epochs + 1):
        stats, reason = _epoch(run, epoch)
        sched.step()
        if run.ema is not None:
            run.ema.swap_in()
        val_acc, val_loss = _val_scores(model, data.x_val, data.y_val)
        rec = {"epoch": epoch, "train_loss": stats["train_loss"], "train_accuracy": stats["train_accuracy"],
               "val_loss": val_loss, "val_accuracy": val_acc, "grad_norm_mean": stats["grad_norm_mean"],
               "grad_norm_max": stats["grad_norm_max"], "lr": opt.param_groups[0]["lr"],
               "seconds": time.perf_counter() - start, "partial": reason is not None and stats["seen"] < len(data.x)}
        res.history.append(rec)
        if best_state is None or rec["val_accuracy"] > res.best_val_accuracy:
            best_state, res.best_epoch, res.best_val_accuracy, since_best = copy.deepcopy(model.state_dict()), \
                epoch, rec["val_accuracy"], 0
        else:
            since_best += 1
        if run.ema is not None:
            run.ema.swap_out()
        if progress:
            progress({"kind": "epoch", **rec})
        if reason or since_best >= cfg.patience:
            res.stopped = reason or "early_stopping"
            break
    model.load_state_dict(best_state)
    model.eval()
    return res


def _epoch(run: _Run, epoch: int) -> tuple[dict, str | None]:
    """One pass over the shuffled training batches: the epoch's statistics and the reason to stop, if a stop came
    mid-epoch."""
    cfg, model, data = run.cfg, run.model, run.data
    model.train()
    batches = make_batches([len(x) for x in data.x], cfg.batch_size, run.gen, cfg.bucket)
    tot_loss = tot_correct = seen = seen_labelled = 0
    norms, reason = [], None
    for b, idx in enumerate(batches):
        ids, lens = pad_batch([data.x[i] for i in idx])
        if run.keep_p is not None:  # word dropout: a token becomes <unk> with probability 1 - keep_p[its id]
            drop = (torch.rand(ids.shape, generator=run.gen) >= run.keep_p[ids]) & (ids != data.vocab.pad_id)
            ids = ids.masked_fill(drop, data.vocab.unk_id)
        y, w = data.y[idx], data.w[idx]
        logits, loss = model.loss(ids, lens, y, w, cfg.prefix_weight, cfg.weight_drop, run.drop_gen)
        run.opt.zero_grad()
        loss.backward()
        # clip_grad_norm_ returns the norm *before* clipping: that is what shows an explosion.
        norm = float(nn.utils.clip_grad_norm_(model.parameters(), cfg.clip if cfg.clip else float("inf")))
        norms.append(norm)
        run.opt.step()
        if run.ema is not None:
            run.ema.update()
        run.n_done += 1
        labelled = y != 0.5
        tot_loss += loss.item() * len(idx)
        tot_correct += int(((logits > 0).float() == y)[labelled].sum())
        seen += len(idx)
        seen_labelled += int(labelled.sum())
        if run.progress:
            run.progress({"kind": "batch", "epoch": epoch, "batch": b + 1, "n_batches": len(batches),
                          "loss": loss.item(), "grad_norm": norm})
        reason = run.stop_reason(run.n_done)
        if reason:
            break
    return {"train_loss": tot_loss / max(seen, 1), "train_accuracy": tot_correct / max(seen_labelled, 1),
            "grad_norm_mean": sum(norms) / max(len(norms), 1), "grad_norm_max": max(norms, default=0.0),
            "seen": seen}, reason


def _val_scores(model: SentimentRNN, id_lists: list[list[int]], labels: list[int]) -> tuple[float, float]:
    """Accuracy and mean BCE on the validation split, from one pass."""
    if not labels:
        return 0.0, float("nan")
    p, y = predict_ids(model, id_lists).clamp(1e-7, 1 - 1e-7), torch.tensor(labels).float()
    return float(((p >= 0.5).float() == y).float().mean()), float(-(y * p.log() + (1 - y) * (1 - p).log()).mean())


def _best_logistic(vec, train: Dataset, val: Dataset, test: Dataset, seed: int) -> tuple[float, float, float]:
    """Fit the TF-IDF `vec` on train, pick LogisticRegression's C on validation: (C, val accuracy, test accuracy)."""
    from sklearn.linear_model import LogisticRegression

    x_train, x_val, x_test = vec.fit_transform(train.texts), vec.transform(val.texts), vec.transform(test.texts)
    best = None
    for c in (0.25, 1.0, 4.0, 16.0):
        clf = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(x_train, train.labels)
        val_acc = float((clf.predict(x_val) == val.labels).mean())
        if best is None or val_acc > best[0]:
            best = (val_acc, c, clf)
    val_acc, c, clf = best
    return c, val_acc, float((clf.predict(x_test) == test.labels).mean())


def tfidf_baseline(train: Dataset, val: Dataset, test: Dataset, seed: int = 0) -> dict | None:
    """Test accuracy of TF-IDF (word 1-2-grams, our tokenizer) + logistic regression on the same split, with C
    chosen on the validation split. scikit-learn is a dev dependency: without it there is no baseline (None)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError:
        return None
    from .text import tokenize

    vec = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, ngram_range=(1, 2),
                          sublinear_tf=True)
    c, val_acc, test_acc = _best_logistic(vec, train, val, test, seed)
    return {"model": f"TF-IDF (word 1-2-grams, sublinear tf) + LogisticRegression(C={c}, chosen on validation)",
            "val_accuracy": val_acc, "test_accuracy": test_acc}


def char_tfidf_baseline(train: Dataset, val: Dataset, test: Dataset, seed: int = 0) -> dict | None:
    """The same as tfidf_baseline on character 2-5-grams within word boundaries (of the normalised text): the
    stronger baseline for Russian, whose inflected word forms a word-level model sees too rarely."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError:
        return None
    from .text import normalise

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), preprocessor=normalise, sublinear_tf=True,
                          min_df=2)
    c, val_acc, test_acc = _best_logistic(vec, train, val, test, seed)
    return {"model": f"TF-IDF (char 2-5-grams in words, sublinear tf) + LogisticRegression(C={c}, chosen on "
                     "validation)", "val_accuracy": val_acc, "test_accuracy": test_acc}
