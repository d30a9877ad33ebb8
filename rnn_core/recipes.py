"""The recipes of the shipped models: which data, which split, which settings. `python -m rnn_core train --all`
runs them all and rewrites assets/models/; the metrics card records everything needed to rerun one.

The settings were tuned on the validation split only; docs/training.md is the log of what was tried.
"""
from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch

from .bundle import MODELS_DIR, save_bundle
from .data import Dataset, load_en, load_ru, load_ru_other, read_labelled_csv, stratified_split
from .errors import InputError
from .train import TrainConfig, TrainResult, evaluate, tfidf_baseline, train

SPLIT_SEED = 2024
SPLIT = (0.8, 0.1, 0.1)
# Where the data sits in the team's workspace (next to the repository); users pass --ru-csv.
RU_DEFAULT_CSV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ru" / "rusentitweet_train.csv"

# What all models of a language share. Small-std embeddings, the prefix loss and (frequency-scaled) word dropout
# lifted validation accuracy above the plain recipe (docs/training.md). max_vocab keeps a bundle under 5 MB: the
# embedding is 100 float32 = 400 bytes per word.
EN = TrainConfig(epochs=20, patience=4, lr=1e-3, emb_init=0.1, prefix_weight=0.5, word_dropout=0.2, rare_dropout=1.0,
                 min_count=2, max_vocab=10000)
# Russian: words are looked up by lemma, and the neutral tweets of the same file train towards P = 0.5, which
# teaches the model that a topic word ("фильм") seen in a few negative tweets is not negative in itself.
RU = replace(EN, epochs=25, patience=6, lemmatize=True, neutral_weight=0.5, max_vocab=8000)
SHIPPED: dict[str, TrainConfig] = {
    "en-rnn": replace(EN, cell="rnn"),
    "en-lstm": replace(EN, cell="lstm"),
    # The GRU did best (on validation, over three seeds) with the plain recipe plus the prefix loss.
    "en-gru": replace(EN, cell="gru", patience=5, lr=2e-3, emb_init=None, word_dropout=0.0, rare_dropout=0.0),
    # RNN and LSTM: the same validation accuracy at lr 2e-3 as at 1e-3 (within one validation tweet), and a sentiment
    # that survives a trailing noun: "это отличный X" over frequent nouns X (docs/training.md).
    "ru-rnn": replace(RU, cell="rnn", lr=2e-3),
    "ru-lstm": replace(RU, cell="lstm", lr=2e-3),
    "ru-gru": replace(RU, cell="gru"),
}


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


def ru_path(csv: str | Path | None) -> Path:
    path = Path(csv) if csv else RU_DEFAULT_CSV
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
    }


def train_bundle(ds: Dataset, cfg: TrainConfig, out: Path, lang: str, name: str, command: str,
                 progress: Callable[[dict], None] | None = None, baseline: bool | dict = True,
                 neutral: list[str] | None = None, ablate_lemmatize: bool = False) -> dict:
    """Split, train, test, compare with the baseline, write the bundle with its metrics card; return the card.

    `baseline` is True (compute it), False (skip it) or an already computed result for the same split.
    `ablate_lemmatize` also trains the same recipe with the other lemmatize setting and records both validation
    accuracies, so the card says what lemmatisation buys."""
    tr, va, te = split_dataset(ds)
    res = train(cfg, tr, va, progress=progress, neutral=neutral)
    if baseline is True:
        baseline = tfidf_baseline(tr, va, te)
    card = metrics_card(name, lang, ds, cfg, res, (tr, va, te), SPLIT_SEED, command, neutral)
    card["baseline"] = baseline or {}
    if ablate_lemmatize:
        other = train(replace(cfg, lemmatize=not cfg.lemmatize), tr, va, progress=progress, neutral=neutral)
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
                  out_dir: Path = MODELS_DIR, cache: dict | None = None) -> dict:
    """Rebuild one shipped bundle. `cache` (a dict the caller keeps across the six) holds each language's dataset,
    neutral texts and TF-IDF baseline: the three models of a language share them, so they are loaded and computed
    once."""
    lang = name.split("-")[0]
    cfg = SHIPPED[name]
    if dry_run:
        cfg = replace(cfg, epochs=1, max_batches=1)
    cache = {} if cache is None else cache
    if ("data", lang) not in cache:
        cache["data", lang] = load_dataset(lang, ru_csv if lang == "ru" else None)
    if ("neutral", lang) not in cache and cfg.neutral_weight:
        cache["neutral", lang] = neutral_texts(lang, ru_csv, cfg)
    command = "python -m rnn_core train --all" + (f" --ru-csv {ru_csv}" if ru_csv else "")
    if Path(out_dir).resolve() != MODELS_DIR.resolve():
        command += f" --out-dir {out_dir}"
    card = train_bundle(cache["data", lang], cfg, Path(out_dir) / name, lang, name, command, progress,
                        baseline=False if dry_run else cache.get(("baseline", lang), True),
                        neutral=cache.get(("neutral", lang), []) if cfg.neutral_weight else [],
                        ablate_lemmatize=cfg.lemmatize)
    if not dry_run:
        cache["baseline", lang] = card["baseline"]
    return card
