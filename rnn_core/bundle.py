"""Model bundles: one folder per trained model.

    assets/models/<name>/
        config.json          cell, sizes, language, max_len and the SHA-256 of every other file
        weights.safetensors  tensors only: safetensors cannot carry code, so loading never runs any
        vocab.json           the Vocab
        metrics.json         the metrics card (data, split, accuracy, date, command)
        pca.json             optional: the 2-D PCA of hidden states on training sentences (memory path page)
        neurons.json         optional: each hidden unit's top training contexts (neuron inspector page)

Any problem with a bundle raises BundleError naming the file, so the CLI and the app can say what is wrong.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save_file

from . import limits
from .errors import BundleError
from .model import CELLS, SentimentRNN
from .schemas import index_from_dict, pca_from_dict
from .text import PAD, UNK, Vocab

# The shipped bundles: assets/models in a clone; rnn_core/assets/models once installed from the wheel.
_HERE = Path(__file__).resolve().parent
MODELS_DIR = next((p for p in (_HERE.parent / "assets" / "models", _HERE / "assets" / "models") if p.is_dir()),
                  _HERE.parent / "assets" / "models")


def models_dir() -> Path:
    """Where shipped bundles are found by name: assets/models, or $RNN_LENS_MODELS (tests, other deployments)."""
    return Path(os.environ.get("RNN_LENS_MODELS") or MODELS_DIR)


FORMAT = "rnn-lens-bundle/1"
WEIGHTS, VOCAB, METRICS, CONFIG = "weights.safetensors", "vocab.json", "metrics.json", "config.json"
EXTRAS = ("pca.json", "neurons.json")  # optional; built from training sentences, which the app does not have
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_INT_KEYS = ("vocab_size", "emb_dim", "hidden_dim", "max_len")


@dataclass
class Bundle:
    name: str
    path: Path | None  # None for a bundle that lives only in memory (trained or uploaded in the app)
    config: dict
    vocab: Vocab
    model: SentimentRNN
    metrics: dict
    extras: dict = field(default_factory=dict)  # {"pca.json": {...}, "neurons.json": {...}} when present

    @property
    def cell(self) -> str:
        return self.config["cell"]

    @property
    def lang(self) -> str:
        return self.config["lang"]

    @property
    def max_len(self) -> int:
        return self.config["max_len"]

    @property
    def pca(self) -> dict | None:
        """The memory-path PCA (arrays, see schemas.pca_from_dict), or None when the bundle has none."""
        d = self.extras.get("pca.json")
        return None if d is None else pca_from_dict(d)

    @property
    def neuron_index(self) -> dict | None:
        """The neuron inspector's index (see schemas.index_from_dict), or None when the bundle has none."""
        return self.extras.get("neurons.json")

    @property
    def nbytes(self) -> int:
        """Roughly what this bundle holds in memory: weights, vocabulary and extras (for the session cap)."""
        weights = sum(p.numel() * p.element_size() for p in self.model.state_dict().values())
        vocab = sum(len(w) for w in self.vocab.itos) + 120 * len(self.vocab)  # str objects and the stoi dict
        extras = sum(len(json.dumps(v)) for v in self.extras.values())
        return weights + vocab + extras


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_bundle(path: Path, model: SentimentRNN, vocab: Vocab, config: dict, metrics: dict,
                extras: dict | None = None) -> Path:
    """Write a bundle folder. `config` needs at least `lang` and `max_len`; sizes are read off the model.
    `extras` maps optional file names (EXTRAS) to JSON-able objects."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path / WEIGHTS))
    vocab.save(path / VOCAB)
    (path / METRICS).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    cfg = bundle_config(model, vocab, config)
    for f in EXTRAS:  # extras of an earlier model in this folder would describe the wrong weights
        if f not in (extras or {}):
            (path / f).unlink(missing_ok=True)
    _write_extras_and_config(path, cfg, extras or {})
    return path


def bundle_config(model: SentimentRNN, vocab: Vocab, config: dict) -> dict:
    """config.json without its checksums: `config` (name, lang, max_len) plus what is read off the model."""
    return {"format": FORMAT, **config, "cell": model.cell, "vocab_size": len(vocab),
            "emb_dim": model.embedding.embedding_dim, "hidden_dim": model.hidden_dim, "readout": "last_token"}


def add_extras(path: Path, extras: dict) -> None:
    """Add or replace optional files (pca.json, neurons.json) of an existing bundle and re-sign its config."""
    cfg = read_config(Path(path))
    cfg.pop("files")
    _write_extras_and_config(Path(path), cfg, extras)


def _write_extras_and_config(path: Path, cfg: dict, extras: dict) -> None:
    unknown = set(extras) - set(EXTRAS)
    if unknown:
        raise ValueError(f"unknown extra files {unknown}; allowed: {EXTRAS}")
    for fname, obj in extras.items():
        (path / fname).write_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    names = [WEIGHTS, VOCAB, METRICS] + [f for f in EXTRAS if (path / f).is_file()]
    cfg["files"] = {f: _sha256((path / f).read_bytes()) for f in names}
    (path / CONFIG).write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def resolve(name_or_path: str | Path) -> Path:
    """A shipped bundle's folder by name ('en-lstm'), or any folder given as a path."""
    s = str(name_or_path)
    if _NAME.match(s) and not Path(s).is_dir():
        path = models_dir() / s
        if not path.is_dir():
            raise BundleError("unknown_model", name=s, known=", ".join(shipped_names()) or "—")
        return path
    path = Path(s)
    if not path.is_dir():
        raise BundleError("model_folder_missing", path=str(path))
    return path


def shipped_names() -> list[str]:
    root = models_dir()
    return sorted(p.name for p in root.glob("*") if (p / CONFIG).is_file()) if root.is_dir() else []


def safe_name(raw, default: str) -> str:
    """A name for a model trained or uploaded in the app: what _NAME accepts (ASCII letters, digits, - _ .), else
    `default`, and never a shipped model's name (a session's own model would hide the shipped one on every page)."""
    s = re.sub(r"[^A-Za-z0-9_.-]", "-", raw.strip())[:64].strip("-.") if isinstance(raw, str) else ""
    s = s if _NAME.match(s) else default
    return f"{s}-own" if s in shipped_names() else s


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise BundleError("bundle_missing_file", file=path.name, folder=str(path.parent))
    return _parse_json(_read_capped(path), str(path))


def _read_capped(path: Path) -> bytes:
    """A bundle file's bytes, refused unread when it is over its size limit."""
    cap = limits.MAX_FILE_BYTES.get(path.name, limits.MAX_FILE_BYTES["metrics.json"])
    try:
        if path.stat().st_size > cap:
            raise BundleError("bundle_file_too_big", file=str(path), kb=cap // 1024)
        with open(path, "rb") as f:
            data = f.read(cap + 1)
    except OSError as e:
        raise BundleError("bundle_unreadable", file=str(path), reason=str(e.strerror or type(e).__name__)) from None
    if len(data) > cap:  # a file that grew, or a device such as /dev/zero
        raise BundleError("bundle_file_too_big", file=str(path), kb=cap // 1024)
    return data


def _parse_json(raw: bytes, where: str):
    """A JSON object from bytes already read (and checksummed) from `where`, which error messages name. Deep
    nesting, 5,000-digit numbers and bad encodings are all "damaged", never an exception of another type."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError):
        raise BundleError("bundle_bad_json", file=where) from None
    if not isinstance(data, dict):
        raise BundleError("bundle_json_not_object", file=where)
    return data


def _check_config(cfg: dict, where: str) -> dict:
    problems = []  # names of the fields that are wrong or missing
    if cfg.get("format") != FORMAT:
        problems.append("format")
    if cfg.get("cell") not in CELLS:
        problems.append("cell")
    problems += [k for k in _INT_KEYS if not isinstance(cfg.get(k), int) or isinstance(cfg.get(k), bool) or cfg[k] <= 0]
    if not isinstance(cfg.get("lang"), str):
        problems.append("lang")
    files = cfg.get("files")
    if not isinstance(files, dict) or not {WEIGHTS, VOCAB, METRICS} <= set(files) <= {WEIGHTS, VOCAB, METRICS,
                                                                                        *EXTRAS} \
            or not all(isinstance(v, str) for v in files.values()):
        problems.append("files")
    if problems:
        raise BundleError("bundle_bad_config", file=where, fields=", ".join(problems))
    over = limits.size_problems(cfg["cell"], *(cfg[k] for k in _INT_KEYS))  # before a weight is allocated
    if over:
        field, value, cap = over[0]
        raise BundleError("bundle_over_limit", file=where, field=field, value=value, limit=cap)
    return cfg


def read_config(path: Path) -> dict:
    """The validated config.json of a bundle folder (cheap: reads no weights)."""
    return _check_config(_read_json(path / CONFIG), str(path / CONFIG))


def load_model(name_or_path: str | Path) -> Bundle:
    """Load and check a bundle. Raises BundleError (naming the file) for anything missing, damaged or inconsistent."""
    path = resolve(name_or_path)
    cfg = read_config(path)
    blobs = {}
    for fname in cfg["files"]:
        if not (path / fname).is_file():
            raise BundleError("bundle_missing_file", file=fname, folder=str(path))
        blobs[fname] = _read_capped(path / fname)
    return _from_blobs(blobs, cfg, str(path), path.name, path)


def _from_blobs(blobs: dict, cfg: dict, where: str, default_name: str, path: Path | None) -> Bundle:
    """A Bundle from the bytes of its files (from a folder or a zip); `where` prefixes the file names in messages.
    Whatever goes wrong is one BundleError: a failure we did not foresee is reported as such, not as a crash."""
    try:
        return _build(blobs, cfg, where, default_name, path)
    except BundleError:
        raise
    except Exception as e:  # noqa: BLE001 -- the promise is "one BundleError naming the file", whatever happens
        raise BundleError("bundle_unloadable", file=where, kind=type(e).__name__) from None


def _build(blobs: dict, cfg: dict, where: str, default_name: str, path: Path | None) -> Bundle:
    for fname, digest in cfg["files"].items():
        if _sha256(blobs[fname]) != digest:
            raise BundleError("bundle_checksum", file=f"{where}/{fname}", config=CONFIG)
    vocab = _vocab(_parse_json(blobs[VOCAB], f"{where}/{VOCAB}"), cfg, f"{where}/{VOCAB}")
    metrics = _parse_json(blobs[METRICS], f"{where}/{METRICS}")  # the checksummed bytes: each file is read once
    try:
        state = load_safetensors(blobs[WEIGHTS])
    except Exception:  # noqa: BLE001 -- safetensors raises its own error types for any malformed file
        raise BundleError("bundle_bad_weights", file=f"{where}/{WEIGHTS}") from None
    model = SentimentRNN(cfg["vocab_size"], cfg["cell"], cfg["emb_dim"], cfg["hidden_dim"])  # sizes checked
    expected = model.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
        raise BundleError("bundle_weights_shape", file=f"{where}/{WEIGHTS}", config=CONFIG)
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise BundleError("bundle_weights_nan", file=f"{where}/{WEIGHTS}")
    model.load_state_dict(state)
    model.eval()
    extras = {f: _parse_json(blobs[f], f"{where}/{f}") for f in EXTRAS if f in cfg["files"]}
    _check_extras(extras, cfg, where)
    name = cfg.get("name")  # shown on pages and in file names: only what _NAME allows, else the folder's name
    return Bundle(name if isinstance(name, str) and _NAME.match(name) else default_name, path, cfg, vocab, model,
                  metrics, extras)


def _vocab(d: dict, cfg: dict, where: str) -> Vocab:
    itos = d.get("itos")
    if not isinstance(itos, list) or not all(isinstance(w, str) for w in itos):
        raise BundleError("bundle_bad_vocab", file=where)
    if len(itos) != cfg["vocab_size"]:  # vocab_size is within limits.MAX_VOCAB: checked with the config
        raise BundleError("bundle_vocab_size", file=where, n=len(itos), config=CONFIG, expected=cfg["vocab_size"])
    if itos[:2] != [PAD, UNK] or len(set(itos)) != len(itos):
        raise BundleError("bundle_bad_vocab", file=where)  # it must start with <pad>, <unk> and repeat no token
    return Vocab(itos, lemmatize=d.get("lemmatize") is True)


def _check_extras(extras: dict, cfg: dict, where: str) -> None:
    """The optional indexes must be what the memory-path and neuron pages can show, for this model's hidden size:
    an uploaded .zip may carry anything, and a page must not fail on it later."""
    for fname, check, width in (("pca.json", pca_from_dict, lambda x: x["components"].shape[1]),
                                ("neurons.json", index_from_dict, lambda x: x["n_units"])):
        if fname not in extras:
            continue
        try:
            if width(check(extras[fname])) != cfg["hidden_dim"]:
                raise ValueError(f"it is not for a hidden size of {cfg['hidden_dim']}")
        except ValueError:
            raise BundleError("bundle_bad_index", file=f"{where}/{fname}") from None


def list_bundles() -> list[dict]:
    """One summary per shipped bundle, from config and metrics card only; a broken one reports its error. Numbers
    from a card are numbers or None (a card may hold anything)."""
    rows = []
    for name in shipped_names():
        path = models_dir() / name
        try:
            cfg, metrics = read_config(path), _read_json(path / METRICS)
            base = metrics.get("baseline")
            rows.append({"name": name, "lang": cfg["lang"], "cell": cfg["cell"],
                         "test_accuracy": _number(metrics.get("test_accuracy")),
                         "val_accuracy": _number(metrics.get("val_accuracy")),
                         "baseline_test_accuracy": _number(base.get("test_accuracy")) if isinstance(base, dict)
                         else None, "vocab_size": cfg["vocab_size"]})
        except BundleError as e:
            rows.append({"name": name, "lang": None, "cell": None, "test_accuracy": None, "error": str(e)})
    return rows


def _number(v) -> float | None:
    import math

    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None


def bundle_zip(b: Bundle) -> bytes:
    """A bundle as a .zip (one folder named after the model) that load_zip, the CLI and the app can read."""
    import io
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / b.name
        save_bundle(folder, b.model, b.vocab, {k: b.config[k] for k in ("name", "lang", "max_len") if k in
                                               b.config}, b.metrics, b.extras)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for f in (CONFIG, WEIGHTS, VOCAB, METRICS, *b.extras):
                z.write(folder / f, f"{b.name}/{f}")
    return buf.getvalue()


def _zip_entry_count(data: bytes) -> int | None:
    """The entry count in a zip's end-of-central-directory record, read before zipfile builds one object per
    entry; None when there is no plain (non-zip64) record: our bundles never need zip64."""
    import struct

    i = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if i < 0 or len(data) < i + 22 or data.rfind(b"PK\x06\x07", max(0, i - 20), i) >= 0:
        return None
    count = struct.unpack("<H", data[i + 10:i + 12])[0]
    return None if count == 0xFFFF else count


def load_zip(data: bytes, filename: str = "upload.zip") -> Bundle:
    """Load a bundle from .zip bytes (an upload, called `filename` in messages). Only the bundle files are read,
    each inflated in chunks against its own size limit and a running total (a header's declared size is never
    trusted), with paths ignored and nothing executed; any problem is a BundleError."""
    import io
    import zipfile

    where = _display(filename)
    if len(data) > limits.MAX_ZIP_BYTES or not zipfile.is_zipfile(io.BytesIO(data)):
        raise BundleError("upload_not_zip", file=where)
    n = _zip_entry_count(data)
    if n is None or n > limits.MAX_ZIP_ENTRIES:
        raise BundleError("upload_too_many_entries", file=where)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            blobs = _read_members(z, where)
    except BundleError:
        raise
    except Exception:  # noqa: BLE001 -- BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ...
        raise BundleError("upload_damaged", file=where) from None
    cfg = _check_config(_parse_json(blobs[CONFIG], f"{where}/{CONFIG}"), f"{where}/{CONFIG}")
    missing = sorted(set(cfg["files"]) - set(blobs))
    if missing:
        raise BundleError("upload_missing_listed", file=where, missing=", ".join(missing), config=CONFIG)
    b = _from_blobs(blobs, cfg, where, "uploaded", None)
    b.name = safe_name(b.config.get("name"), "uploaded")  # the zip's config is the uploader's text
    return b


def _display(filename) -> str:
    """An uploaded file's name as messages may show it: printable, short."""
    s = "".join(ch if ch.isprintable() else "?" for ch in str(filename))[:80]
    return s or "upload.zip"


def _read_members(z, where: str) -> dict:
    import zipfile

    wanted = {CONFIG, WEIGHTS, VOCAB, METRICS}
    by_name: dict = {}
    for info in z.infolist():
        fname = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if info.is_dir() or fname not in wanted | set(EXTRAS):
            continue
        if fname in by_name:
            raise BundleError("upload_duplicate", file=where, name=fname)
        by_name[fname] = info
    if not wanted <= set(by_name):
        raise BundleError("upload_not_bundle", file=where, missing=", ".join(sorted(wanted - set(by_name))))
    blobs, total = {}, 0
    for fname, info in by_name.items():
        if info.flag_bits & 0x1:
            raise BundleError("upload_encrypted", file=f"{where}/{fname}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError("upload_compression", file=f"{where}/{fname}")
        cap, chunks = limits.MAX_FILE_BYTES[fname], []
        with z.open(info) as f:  # inflate in chunks: the declared size may lie (B1: "100 bytes" that were 1 GB)
            size = 0
            while chunk := f.read(64 * 1024):
                size += len(chunk)
                total += len(chunk)
                if size > cap or total > limits.MAX_ZIP_BYTES:
                    raise BundleError("upload_too_big", file=f"{where}/{fname}", kb=cap // 1024,
                                      mb=limits.MAX_ZIP_BYTES // 2**20)
                chunks.append(chunk)
        blobs[fname] = b"".join(chunks)
    return blobs
