"""Fault injection and nasty input, as the issue lists them: each gives one clear message in the CLI and on the
page, and no code from a model file ever runs."""
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Evil, resign

ROOT = Path(__file__).resolve().parent.parent


def truncate_weights(d: Path):
    w = d / "weights.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 3])
    return "weights.safetensors"


def vocab_mismatch(d: Path):
    v = json.loads((d / "vocab.json").read_text())
    v["itos"] += ["extra1", "extra2"]
    (d / "vocab.json").write_text(json.dumps(v))
    resign(d, "vocab.json")
    return "vocab.json"


def missing_metrics(d: Path):
    (d / "metrics.json").unlink()
    return "metrics.json"


def pickle_swap(d: Path):
    (d / "weights.safetensors").write_bytes(pickle.dumps({"embedding.weight": Evil()}))
    resign(d, "weights.safetensors")
    return "weights.safetensors"


def bad_index(d: Path):
    """A neuron index the inspector could not show (signed, so only the content check can catch it)."""
    (d / "neurons.json").write_text(json.dumps({"format": "rnn-lens-neurons/1", "n_units": 1,
                                                "units": [{"pos": [{"word": 1}], "neg": []}]}))
    resign(d, "neurons.json")
    return "neurons.json"


FAULTS = [truncate_weights, vocab_mismatch, missing_metrics, pickle_swap, bad_index]


@pytest.fixture
def broken_root(models_root, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(models_root, root)
    monkeypatch.chdir(tmp_path)  # a pickle that ran would leave PWNED here
    return root


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__)
def test_cli_names_the_file(broken_root, fault, tmp_path):
    fname = fault(broken_root / "en-gru")
    r = subprocess.run([sys.executable, "-m", "rnn_core", "predict", "--model", str(broken_root / "en-gru"), "good"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and fname in r.stderr
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.__name__)
def test_page_names_the_file_and_keeps_working(app, broken_root, fault, tmp_path, monkeypatch):
    fname = fault(broken_root / "en-lstm")
    monkeypatch.setenv("RNN_LENS_MODELS", str(broken_root))
    at = app(text="good movie")
    assert not at.exception
    assert any("en-lstm" in e.value and fname in e.value for e in at.error)
    at.segmented_control(key="cell").set_value("GRU").run()  # the other models still work
    assert not at.error and any("P(positive)" in m.value for m in at.markdown)
    assert not (tmp_path / "PWNED").exists()


NASTY = {
    "empty": "",
    "whitespace": " \t\n  \u3000 ",
    "100k characters": "fun " * 25_000,
    "emoji only": "😀🎬🍿👍🏽",
    "right-to-left": "\u05d4\u05e1\u05e8\u05d8 \u05d4\u05d9\u05d4 \u05de\u05e2\u05d5\u05dc\u05d4 مرحبا",
    "zero-width and control": "go\u200bod\u200c \u200dmo\u2060vie\x00\x01\x1b[31m",
    "script": "<script>alert('x')</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "only unknown words": "qwzx vbnmk plorf",
    "numbers only": "1234 5678 90",
    "mixed ru and en": "это good фильм, but не очень",
}


@pytest.mark.parametrize("name", list(NASTY))
def test_nasty_input(app, name):
    text = NASTY[name]
    at = app()
    at.text_area(key="text").input(text).run()
    assert not at.exception, [e.message for e in at.exception]
    chips = "".join(e.proto.body for e in at.get("html"))
    assert "<script" not in chips and "<img" not in chips
    if name in ("empty", "whitespace"):
        assert at.info and not at.get("plotly_chart")
        return
    assert any("P(positive)" in m.value for m in at.markdown)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert 1 <= len(spec["frames"]) <= 50
    if name == "100k characters":
        assert any("first 50" in w.value for w in at.warning)
