"""The recipes of the shipped models: which data, which split, which settings. `python -m rnn_core train --all`
runs them all and rewrites assets/models/; the metrics card records everything needed to rerun one.

The settings were tuned on the validation split only; docs/training.md is the log of what was tried.
"""
from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .behaviour import card_summary, run_suite
from .bundle import MODELS_DIR, save_bundle
from .data import Dataset, load_en, load_ru, load_ru_other, read_labelled_csv, stratified_split
from .errors import InputError
from .text import Vocab
from .train import TrainConfig, TrainResult, char_tfidf_baseline, evaluate, tfidf_baseline, train

SPLIT_SEED = 2024
SPLIT = (0.8, 0.1, 0.1)
RU_CSV_ENV = "RNN_LENS_RU_CSV"  # where the Russian CSV is when no --ru-csv is given

# What all models of a language share. Small-std embeddings, the prefix loss and (frequency-scaled) word dropout
# lifted validation accuracy above the plain recipe (docs/training.md). With pretrained vectors (KNOWLEDGE below) the
# English models reach their best validation accuracy in 2-4 epochs, the Russian ones in 6-13.
EN = TrainConfig(epochs=10, patience=3, lr=1e-3, emb_init=0.1, prefix_weight=0.5, word_dropout=0.2, rare_dropout=1.0,
                 min_count=2, max_vocab=10000)
# Russian: words are looked up by lemma, and the neutral tweets of the same file train towards P = 0.5, which
# teaches the model that a topic word ("фильм") seen in a few negative tweets is not negative in itself.
RU = replace(EN, epochs=20, patience=4, lemmatize=True, neutral_weight=0.5, max_vocab=8000)
ABLATE_LEMMATIZE = False  # True: train --all also trains each Russian recipe on word forms and records both
SHIPPED: dict[str, TrainConfig] = {
    # Seeds: each recipe was trained with seeds 13, 14, 15 and the one shipped was chosen without test (fewest wrong
    # app examples, then suite, then validation: scripts/seeds.py); train --all reproduces that seed.
    "en-rnn": replace(EN, cell="rnn"),
    "en-lstm": replace(EN, cell="lstm", seed=15),
    # The GRU did best (on validation, over three seeds) with the plain recipe plus the prefix loss.
    "en-gru": replace(EN, cell="gru", lr=2e-3, word_dropout=0.0, rare_dropout=0.0),
    # RNN and LSTM: the same validation accuracy at lr 2e-3 as at 1e-3 (within one validation tweet), and a sentiment
    # that survives a trailing noun: "это отличный X" over frequent nouns X (docs/training.md).
    "ru-rnn": replace(RU, cell="rnn", lr=2e-3, seed=14),
    "ru-lstm": replace(RU, cell="lstm", lr=2e-3),
    "ru-gru": replace(RU, cell="gru"),
}

# train --all --jobs N starts the slowest first (train_seconds of the shipped cards), so the last one does not run alone
LONGEST_FIRST = ("en-gru", "en-lstm", "ru-rnn", "ru-lstm", "ru-gru", "en-rnn")


@dataclass(frozen=True)
class Knowledge:
    """What a recipe adds to its training split beyond the seed: pretrained vectors (rnn_core/pretrained.py) and a
    vocabulary extended with frequent words that have one, and counterfactual texts (rnn_core/augment.py)."""
    pretrained: bool = False
    vocab_size: int | None = None  # extend the vocabulary with pretrained words up to this many entries
    freeze: bool = True  # keep the pretrained dimensions fixed during training
    dims: int = 50  # embedding dimensions filled with pretrained values (GloVe has 50; navec is PCA-reduced)
    counterfactual: bool = False  # negation edits of training sentences, label flipped
    contrast: int = 0  # joined "A, but B" pairs of training sentences, labelled as B
    tails: int = 0  # labelled texts with a piece of a neutral text appended, label kept (augment.neutral_tails)


NONE = Knowledge()


def prepare(lang: str, cfg: TrainConfig, kn: Knowledge, tr: Dataset, neutral: list[str], seed: int | None = None
            ) -> tuple[Dataset, Vocab | None, Callable | None, dict]:
    """The training set, vocabulary and embedding hook a recipe trains with, and a note for the metrics card."""
    if kn == NONE:
        return tr, None, None, {}
    note, original = {}, tr
    base = Vocab.build(tr.texts + (neutral if cfg.neutral_weight else []), cfg.min_count, cfg.max_vocab,
                       cfg.lemmatize)
    if kn.counterfactual or kn.contrast:
        from .augment import counterfactuals

        texts, labels = counterfactuals(tr.texts, tr.labels, base, lang, kn.contrast,
                                        cfg.seed if seed is None else seed)
        if not kn.counterfactual:  # contrast pairs only
            texts, labels = texts[len(texts) - kn.contrast:], labels[len(labels) - kn.contrast:]
        note["augmented_texts"] = len(texts)
        tr = Dataset(tr.texts + texts, tr.labels + labels, tr.source)
    if kn.tails and neutral:
        from .augment import neutral_tails

        texts, labels = neutral_tails(original.texts, original.labels, neutral, kn.tails,
                                      cfg.seed if seed is None else seed, lang)
        note["neutral_tail_texts"] = len(texts)
        tr = Dataset(tr.texts + texts, tr.labels + labels, tr.source)
    vocab, init = base, None
    if kn.pretrained:
        from . import pretrained

        if kn.vocab_size:
            vocab = pretrained.extend_vocab(base, lang, kn.vocab_size)
        init = pretrained.embedding_init(lang, seen=set(base.itos), freeze=kn.freeze, dim=kn.dims)
        note.update({"vectors": pretrained.SOURCES[lang], "training_vocab": len(base), "vocab": len(vocab),
                     "with_vector": round(pretrained.coverage(vocab, lang), 4)})
    return tr, vocab, init, note


# The shipped recipes' knowledge (docs/training.md, "Behaviour"): pretrained vectors frozen in dims 0-49, 25,000
# words (10 MB of float32 embedding), counterfactual negation edits and clause pairs, contrast pairs; for Russian
# also neutral tails (tweets teach that the last words decide, whatever they are).
EN_KNOWLEDGE = Knowledge(pretrained=True, vocab_size=25000, counterfactual=True, contrast=1500)
RU_KNOWLEDGE = Knowledge(pretrained=True, vocab_size=25000, counterfactual=True, contrast=800, tails=1500)
KNOWLEDGE: dict[str, Knowledge] = {name: EN_KNOWLEDGE if name.startswith("en") else RU_KNOWLEDGE
                                   for name in SHIPPED}


def load_dataset(lang: str | None, csv: str | Path | None = None, text_col: str = "text",
                 label_col: str = "label") -> Dataset:
    if csv is not None and lang != "ru":
        return read_labelled_csv(csv, text_col, label_col)
    if lang == "en":
        return load_en()
    if lang == "ru":
        path = ru_path(csv)
        return load_ru(path)
    raise InputError("unknown_lang", lang=str(lang))


def ru_path(csv: str | Path | None = None) -> Path:
    """The Russian training CSV: the path given, else the one in $RNN_LENS_RU_CSV. The repository does not carry it."""
    given = csv or os.environ.get(RU_CSV_ENV)
    if not given:
        raise InputError("ru_data_not_given", env=RU_CSV_ENV)
    path = Path(given)
    if not path.is_file():
        raise InputError("ru_data_missing", path=str(path))
    return path


def neutral_texts(lang: str | None, csv: str | Path | None, cfg: TrainConfig) -> list[str]:
    """The texts a recipe trains towards P = 0.5: RuSentiTweet's neutral rows (never positive/negative texts, so
    never validation or test texts). Empty unless the config asks for them."""
    if cfg.neutral_weight == 0 or lang != "ru":
        return []
    return load_ru_other(ru_path(csv), ("neutral",))


def split_dataset(ds: Dataset, seed: int = SPLIT_SEED) -> tuple[Dataset, Dataset, Dataset]:
    parts = stratified_split(ds.labels, seed, SPLIT)
    return tuple(Dataset([ds.texts[i] for i in p], [ds.labels[i] for i in p], ds.source) for p in parts)


def metrics_card(name: str, lang: str | None, ds: Dataset, cfg: TrainConfig, res: TrainResult,
                 parts: tuple[Dataset, Dataset, Dataset], split_seed: int, command: str,
                 neutral: list[str] | None = None) -> dict:
    """The metrics card of a trained model (the shipped ones and those trained in the app alike): data, split,
    sizes, settings, training, validation and test accuracy, history, date and the command that made it."""
    tr, va, te = parts
    test = evaluate(res.model, res.vocab, te.texts, te.labels, cfg.max_len)
    return {
        "name": name, "lang": lang, "cell": cfg.cell,
        "data": {**ds.source, "rows_used": len(ds), "dropped": ds.dropped,
                 "positive_share": round(sum(ds.labels) / len(ds), 4),
                 **({"neutral_rows_trained_to_0.5": len(neutral)} if neutral and cfg.neutral_weight else {})},
        "split": {"seed": split_seed, "fractions": list(SPLIT), "stratified": True,
                  "train": len(tr), "val": len(va), "test": len(te)},
        "vocab_size": len(res.vocab), "lemmatize": cfg.lemmatize,
        "params": res.model.param_counts(),
        "train_config": asdict(cfg),
        "best_epoch": res.best_epoch, "epochs_run": len(res.history), "stopped": res.stopped,
        "train_seconds": round(res.seconds, 1),
        "val_accuracy": res.best_val_accuracy, "test_accuracy": test["accuracy"], "test_confusion": test["confusion"],
        "history": [{k: round(v, 4) if isinstance(v, float) else v for k, v in h.items()} for h in res.history],
        "date": dt.date.today().isoformat(), "command": command,
        **({"behaviour": card_summary(run_suite(res.model, res.vocab, lang, cfg.max_len))} if lang in ("en", "ru")
           else {}),
    }


def train_bundle(ds: Dataset, cfg: TrainConfig, out: Path, lang: str, name: str, command: str,
                 progress: Callable[[dict], None] | None = None, baseline: bool | dict = True,
                 neutral: list[str] | None = None, ablate_lemmatize: bool = False,
                 knowledge: Knowledge = NONE, char_baseline: bool | dict = False) -> dict:
    """Split, train, test, compare with the baselines, write the bundle with its metrics card; return the card.

    `baseline` (word TF-IDF) and `char_baseline` (char n-gram TF-IDF) are True (compute), False (skip) or an already
    computed result for the same split. `knowledge` adds pretrained vectors and counterfactual texts (prepare()).
    `ablate_lemmatize` also trains the same recipe with the other lemmatize setting and records both validation
    accuracies, so the card says what lemmatisation buys."""
    tr, va, te = split_dataset(ds)
    neutral = neutral or []

    def fit(c: TrainConfig):
        tr_k, vocab, init, note = prepare(lang, c, knowledge, tr, neutral)
        return train(c, tr_k, va, progress=progress, neutral=neutral, vocab=vocab, init_embedding=init), note

    res, note = fit(cfg)
    if baseline is True:
        baseline = tfidf_baseline(tr, va, te)
    if char_baseline is True:
        char_baseline = char_tfidf_baseline(tr, va, te)
    card = metrics_card(name, lang, ds, cfg, res, (tr, va, te), SPLIT_SEED, command, neutral)
    card["baseline"] = baseline or {}
    if char_baseline:
        card["baseline_char"] = char_baseline
    if knowledge != NONE:
        card["knowledge"] = {**asdict(knowledge), **note}
    if ablate_lemmatize:
        other = fit(replace(cfg, lemmatize=not cfg.lemmatize))[0]
        runs = {cfg.lemmatize: res, not cfg.lemmatize: other}
        card["lemmatize_ablation"] = {
            "note": "the same recipe and split trained with and without lemma lookup; validation accuracy",
            **{key: {"val_accuracy": r.best_val_accuracy, "vocab_size": len(r.vocab), "best_epoch": r.best_epoch}
               for key, r in (("lemmatized", runs[True]), ("word_forms", runs[False]))},
            "train_seconds": round(other.seconds, 1)}
    card["environment"] = {"torch": torch.__version__, "python": platform.python_version(), "threads": cfg.threads}
    save_bundle(out, res.model, res.vocab, {"name": name, "lang": lang, "max_len": cfg.max_len}, card)
    return card


def train_shipped(name: str, ru_csv: Path | None = None, progress=None, dry_run: bool = False,
                  out_dir: Path = MODELS_DIR, cache: dict | None = None, seed: int | None = None) -> dict:
    """Rebuild one shipped bundle. `cache` (a dict the caller keeps across the six) holds each language's dataset,
    neutral texts and TF-IDF baseline: the three models of a language share them, so they are loaded and computed
    once. `seed` replaces the recipe's seed (to report the spread over seeds; scripts/seeds.py chooses the
    shipped one without looking at test)."""
    lang = name.split("-")[0]
    cfg = SHIPPED[name] if seed is None else replace(SHIPPED[name], seed=seed)
    if dry_run:
        cfg = replace(cfg, epochs=1, max_batches=1)
    cache = {} if cache is None else cache
    if ("data", lang) not in cache:
        cache["data", lang] = load_dataset(lang, ru_csv if lang == "ru" else None)
    if ("neutral", lang) not in cache and cfg.neutral_weight:
        cache["neutral", lang] = neutral_texts(lang, ru_csv, cfg)
    command = "python -m rnn_core train --all" + (f" --ru-csv {ru_csv}" if ru_csv else "")
    if seed is not None:
        command += f" --seed {seed}"
    if Path(out_dir).resolve() != MODELS_DIR.resolve():
        command += f" --out-dir {out_dir}"
    card = train_bundle(cache["data", lang], cfg, Path(out_dir) / name, lang, name, command, progress,
                        baseline=False if dry_run else cache.get(("baseline", lang), True),
                        neutral=cache.get(("neutral", lang), []) if cfg.neutral_weight else [],
                        ablate_lemmatize=cfg.lemmatize and ABLATE_LEMMATIZE, knowledge=KNOWLEDGE.get(name, NONE),
                        char_baseline=False if dry_run else cache.get(("baseline_char", lang), True))
    if not dry_run:
        cache["baseline", lang], cache["baseline_char", lang] = card["baseline"], card.get("baseline_char", {})
    return card
