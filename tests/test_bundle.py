import json
import pickle
import shutil

import pytest
import torch
from conftest import Evil, make_bundle, resign

from rnn_core.bundle import CONFIG, METRICS, VOCAB, WEIGHTS, load_model
from rnn_core.errors import BundleError
from rnn_core.trace import trace


def test_roundtrip_gives_the_same_predictions(tmp_path):
    path = make_bundle(tmp_path / "b", cell="gru", seed=3)
    b = load_model(path)
    assert b.cell == "gru" and b.lang == "en" and b.max_len == 50 and len(b.vocab) == 14
    again = load_model(str(path))
    assert trace(b.model, b.vocab, "good movie").p == trace(again.model, again.vocab, "good movie").p


def test_unknown_name_lists_the_shipped_models():
    with pytest.raises(BundleError, match="Unknown model 'no-such-model'"):
        load_model("no-such-model")


@pytest.mark.parametrize("fname", [WEIGHTS, VOCAB, METRICS, CONFIG])
def test_missing_file_is_named(tiny_bundle, fname):
    (tiny_bundle / fname).unlink()
    with pytest.raises(BundleError, match=fname.replace(".", r"\.")):
        load_model(tiny_bundle)


def test_truncated_weights_are_named(tiny_bundle):
    data = (tiny_bundle / WEIGHTS).read_bytes()
    (tiny_bundle / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=WEIGHTS):
        load_model(tiny_bundle)


def test_tampered_vocab_is_detected(tiny_bundle):
    v = json.loads((tiny_bundle / VOCAB).read_text())
    v["itos"][2], v["itos"][3] = v["itos"][3], v["itos"][2]
    (tiny_bundle / VOCAB).write_text(json.dumps(v))
    with pytest.raises(BundleError, match="checksum"):
        load_model(tiny_bundle)


def test_pickle_swapped_in_runs_no_code(tiny_bundle, tmp_path, monkeypatch):
    """A weights file replaced by a pickle that would run a command: loading must fail and run nothing, even when
    the attacker also fixed up the checksum."""
    monkeypatch.chdir(tmp_path)
    (tiny_bundle / WEIGHTS).write_bytes(pickle.dumps({"embedding.weight": Evil()}))
    resign(tiny_bundle, WEIGHTS)
    with pytest.raises(BundleError, match=WEIGHTS):
        load_model(tiny_bundle)
    assert not (tmp_path / "PWNED").exists()


def test_vocab_that_does_not_fit_the_weights(tmp_path):
    a = make_bundle(tmp_path / "a", hidden=16)
    b = make_bundle(tmp_path / "b", hidden=32)
    shutil.copy(b / WEIGHTS, a / WEIGHTS)
    cfg = json.loads((a / CONFIG).read_text())
    cfg["files"][WEIGHTS] = json.loads((b / CONFIG).read_text())["files"][WEIGHTS]
    (a / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(BundleError, match="does not fit"):
        load_model(a)


@pytest.mark.parametrize("edit", [
    lambda c: c.update(cell="transformer"),
    lambda c: c.update(hidden_dim="128"),
    lambda c: c.pop("files"),
    lambda c: c.update(format="something-else"),
])
def test_invalid_config(tiny_bundle, edit):
    cfg = json.loads((tiny_bundle / CONFIG).read_text())
    edit(cfg)
    (tiny_bundle / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(BundleError, match=CONFIG):
        load_model(tiny_bundle)


def test_config_that_is_not_json(tiny_bundle):
    (tiny_bundle / CONFIG).write_bytes(b"\x80\x81garbage")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_model(tiny_bundle)


def test_weights_are_plain_tensors_without_pickle(tiny_bundle):
    assert not (tiny_bundle / WEIGHTS).read_bytes().startswith(b"\x80")  # a pickle starts with its protocol byte
    from safetensors.torch import load_file

    assert all(isinstance(t, torch.Tensor) for t in load_file(str(tiny_bundle / WEIGHTS)).values())


def test_retraining_into_a_folder_drops_stale_extras(tmp_path):
    from conftest import make_bundle

    path = make_bundle(tmp_path / "b", extras=True)
    assert set(load_model(path).extras) == {"pca.json", "neurons.json"}
    make_bundle(tmp_path / "b", cell="gru")  # a new model saved into the same folder, without extras
    b = load_model(path)
    assert b.cell == "gru" and b.extras == {} and not (path / "pca.json").exists()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_size_limits_count_parameters_as_the_model_has_them(cell):
    from rnn_core.limits import n_params
    from rnn_core.model import SentimentRNN

    m = SentimentRNN(321, cell, emb_dim=12, hidden_dim=7)
    assert n_params(cell, 321, 12, 7) == sum(p.numel() for p in m.parameters())
