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

from .errors import BundleError
from .explain.memory_path import pca_from_dict
from .explain.neurons import index_from_dict
from .model import CELLS, SentimentRNN
from .text import Vocab

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
MAX_EXTRA_BYTES = 2 * 1024 * 1024
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
    return _parse_json(path.read_bytes(), path)


def _parse_json(raw: bytes, path: Path) -> dict:
    """A JSON object from bytes already read (and checksummed) from `path`, which error messages name."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("bundle_bad_json", file=str(path)) from None
    if not isinstance(data, dict):
        raise BundleError("bundle_json_not_object", file=str(path))
    return data


def read_config(path: Path) -> dict:
    """The validated config.json of a bundle folder (cheap: reads no weights)."""
    cfg = _read_json(path / CONFIG)
    problems = []
    if cfg.get("format") != FORMAT:
        problems.append("format")
    if cfg.get("cell") not in CELLS:
        problems.append("cell")
    problems += [k for k in _INT_KEYS
                 if not isinstance(cfg.get(k), int) or isinstance(cfg.get(k), bool) or cfg[k] <= 0]
    if not isinstance(cfg.get("lang"), str):
        problems.append("lang")
    files = cfg.get("files")
    if not isinstance(files, dict) or not {WEIGHTS, VOCAB, METRICS} <= set(files) <= {WEIGHTS, VOCAB, METRICS,
                                                                                        *EXTRAS}:
        problems.append("files")
    if problems:
        raise BundleError("bundle_bad_config", file=str(path / CONFIG), fields=", ".join(problems))
    return cfg


def load_model(name_or_path: str | Path) -> Bundle:
    """Load and check a bundle. Raises BundleError (naming the file) for anything missing, damaged or inconsistent."""
    path = resolve(name_or_path)
    cfg = read_config(path)
    blobs = {}
    for fname, digest in cfg["files"].items():
        f = path / fname
        if not f.is_file():
            raise BundleError("bundle_missing_file", file=fname, folder=str(path))
        blobs[fname] = f.read_bytes()
        if _sha256(blobs[fname]) != digest:
            raise BundleError("bundle_checksum", file=str(f), config=CONFIG)
    try:
        vocab = Vocab.from_json(blobs[VOCAB].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BundleError("bundle_bad_vocab", file=str(path / VOCAB)) from None
    if len(vocab) != cfg["vocab_size"]:
        raise BundleError("bundle_vocab_size", file=str(path / VOCAB), n=len(vocab), config=CONFIG,
                          expected=cfg["vocab_size"])
    metrics = _parse_json(blobs[METRICS], path / METRICS)  # the checksummed bytes: each file is read once
    model = SentimentRNN(cfg["vocab_size"], cfg["cell"], cfg["emb_dim"], cfg["hidden_dim"])
    try:
        state = load_safetensors(blobs[WEIGHTS])
    except Exception:  # safetensors raises its own error types for any malformed file
        raise BundleError("bundle_bad_weights", file=str(path / WEIGHTS)) from None
    expected = model.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
        raise BundleError("bundle_weights_shape", file=str(path / WEIGHTS), config=CONFIG)
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise BundleError("bundle_weights_nan", file=str(path / WEIGHTS))
    model.load_state_dict(state)
    model.eval()
    extras = {}
    for fname in EXTRAS:
        if fname in blobs:
            if len(blobs[fname]) > MAX_EXTRA_BYTES:
                raise BundleError("bundle_extra_too_big", file=str(path / fname))
            extras[fname] = _parse_json(blobs[fname], path / fname)
    _check_extras(extras, cfg, path)
    return Bundle(str(cfg.get("name") or path.name), path, cfg, vocab, model, metrics, extras)


def _check_extras(extras: dict, cfg: dict, path: Path) -> None:
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
            raise BundleError("bundle_bad_index", file=str(path / fname)) from None


def list_bundles() -> list[dict]:
    """One summary per shipped bundle, from config and metrics card only; a broken one reports its error."""
    rows = []
    for name in shipped_names():
        path = models_dir() / name
        try:
            cfg, metrics = read_config(path), _read_json(path / METRICS)
            rows.append({"name": name, "lang": cfg["lang"], "cell": cfg["cell"],
                         "test_accuracy": metrics.get("test_accuracy"), "val_accuracy": metrics.get("val_accuracy"),
                         "baseline_test_accuracy": metrics.get("baseline", {}).get("test_accuracy"),
                         "vocab_size": cfg["vocab_size"]})
        except BundleError as e:
            rows.append({"name": name, "lang": None, "cell": None, "test_accuracy": None, "error": str(e)})
    return rows


MAX_ZIP_BYTES = 30 * 1024 * 1024  # uncompressed; a shipped-size bundle is ~5 MB


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


def load_zip(data: bytes) -> Bundle:
    """Load a bundle from .zip bytes (an upload). Only the four bundle files are read, with sizes capped, paths
    checked and nothing executed; any problem is a BundleError."""
    import io
    import tempfile
    import zipfile

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise BundleError("zip_not_zip")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            wanted = {CONFIG, WEIGHTS, VOCAB, METRICS}
            by_name = {Path(i.filename).name: i for i in infos if Path(i.filename).name in wanted | set(EXTRAS)}
            if not wanted <= set(by_name):
                missing = ", ".join(sorted(wanted - set(by_name)))
                raise BundleError("zip_not_bundle", missing=missing)
            if sum(i.file_size for i in by_name.values()) > MAX_ZIP_BYTES:
                raise BundleError("zip_too_big")
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "bundle"
                folder.mkdir()
                for fname, info in by_name.items():  # written under our own names: no path in the zip is used
                    (folder / fname).write_bytes(z.read(info))
                b = load_model(folder)
    except zipfile.BadZipFile:
        raise BundleError("zip_damaged") from None
    b.name = safe_name(b.config.get("name"), "uploaded")  # the zip's config is the uploader's text
    b.path = None
    return b
