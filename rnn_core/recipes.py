"""The recipes of the shipped models: which data, which split, which settings. `python -m rnn_core train --all`
runs them all and rewrites assets/models/; the metrics card records everything needed to rerun one."""
from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from .bundle import MODELS_DIR, save_bundle
from .data import Dataset, load_en, load_ru, read_labelled_csv, stratified_split
from .errors import InputError
from .train import TrainConfig, evaluate, tfidf_baseline, train

SPLIT_SEED = 2024
SPLIT = (0.8, 0.1, 0.1)
RU_DEFAULT_CSV = Path("../shared/data/ru/rusentitweet_train.csv")  # where the data sits in the team's workspace

# Settings per shipped model, tuned on the validation split only.
SHIPPED: dict[str, TrainConfig] = {
    "en-rnn": TrainConfig(cell="rnn"),
    "en-lstm": TrainConfig(cell="lstm"),
    "en-gru": TrainConfig(cell="gru"),
    "ru-rnn": TrainConfig(cell="rnn"),
    "ru-lstm": TrainConfig(cell="lstm"),
    "ru-gru": TrainConfig(cell="gru"),
}


def load_dataset(lang: str | None, csv: str | Path | None = None, text_col: str = "text",
                 label_col: str = "label") -> Dataset:
    if csv is not None and lang != "ru":
        return read_labelled_csv(csv, text_col, label_col)
    if lang == "en":
        return load_en()
    if lang == "ru":
        path = Path(csv) if csv else RU_DEFAULT_CSV
        if not path.is_file():
            raise InputError(f"Russian data not found at {path}: pass --csv PATH to rusentitweet_train.csv "
                             "(github.com/sismetanin/rusentitweet).")
        return load_ru(path)
    raise InputError(f"Unknown language '{lang}': use en or ru, or give --csv.")


def split_dataset(ds: Dataset, seed: int = SPLIT_SEED) -> tuple[Dataset, Dataset, Dataset]:
    parts = stratified_split(ds.labels, seed, SPLIT)
    return tuple(Dataset([ds.texts[i] for i in p], [ds.labels[i] for i in p], ds.source) for p in parts)


def train_bundle(ds: Dataset, cfg: TrainConfig, out: Path, lang: str, name: str, command: str,
                 progress: Callable[[dict], None] | None = None, baseline: bool = True) -> dict:
    """Split, train, test, compare with the baseline, write the bundle with its metrics card; return the card."""
    tr, va, te = split_dataset(ds)
    res = train(cfg, tr, va, progress=progress)
    test = evaluate(res.model, res.vocab, te.texts, te.labels, cfg.max_len)
    card = {
        "name": name, "lang": lang, "cell": cfg.cell,
        "data": {**ds.source, "rows_used": len(ds), "dropped": ds.dropped,
                 "positive_share": round(sum(ds.labels) / len(ds), 4)},
        "split": {"seed": SPLIT_SEED, "fractions": list(SPLIT), "stratified": True,
                  "train": len(tr), "val": len(va), "test": len(te)},
        "vocab_size": len(res.vocab), "lemmatize": cfg.lemmatize,
        "params": res.model.param_counts(),
        "train_config": {k: v for k, v in vars(cfg).items()},
        "best_epoch": res.best_epoch, "epochs_run": len(res.history), "stopped": res.stopped,
        "train_seconds": round(res.seconds, 1),
        "val_accuracy": res.best_val_accuracy, "test_accuracy": test["accuracy"], "test_confusion": test["confusion"],
        "baseline": (tfidf_baseline(tr, va, te) if baseline else None) or {},
        "history": res.history,
        "date": dt.date.today().isoformat(), "command": command,
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "threads": torch.get_num_threads()},
    }
    save_bundle(out, res.model, res.vocab, {"name": name, "lang": lang, "max_len": cfg.max_len}, card)
    return card


def train_shipped(name: str, ru_csv: Path | None = None, progress=None, dry_run: bool = False,
                  out_dir: Path = MODELS_DIR) -> dict:
    lang = name.split("-")[0]
    cfg = SHIPPED[name]
    if dry_run:
        cfg = replace(cfg, epochs=1, max_batches=1)
    ds = load_dataset(lang, ru_csv if lang == "ru" else None)
    command = "python -m rnn_core train --all" + (f" --ru-csv {ru_csv}" if ru_csv else "")
    return train_bundle(ds, cfg, Path(out_dir) / name, lang, name, command, progress, baseline=not dry_run)
