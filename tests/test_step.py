"""One step opened up equals the trace it explains, for every cell, word and unit (to 1e-5)."""
import numpy as np
import pytest
import torch

from rnn_core.explain.step import open_step
from rnn_core.model import CELLS, SentimentRNN
from rnn_core.text import Vocab
from rnn_core.trace import trace

TOL = 1e-5
VOCAB = Vocab(["<pad>", "<unk>", "the", "film", "is", "good", "but", "boring", "not"])


@pytest.mark.parametrize("cell", CELLS)
def test_the_parts_add_up_to_the_trace(cell):
    torch.manual_seed(3)
    model = SentimentRNN(len(VOCAB), cell, emb_dim=6, hidden_dim=5).eval()
    tr = trace(model, VOCAB, "the film is good but boring")
    for t in range(len(tr.tokens)):
        for unit in range(5):
            s = open_step(model, tr, t, unit, top_k=3)
            assert s["token"] == tr.tokens[t] and abs(s["h"] - tr.h[t, unit]) < TOL
            assert abs(s["h_prev"] - (tr.h[t - 1, unit] if t else 0.0)) < TOL
            for b in s["blocks"]:
                memory = (b["memory"] + b["memory_bias"]) * (b["reset"] if b["reset"] is not None else 1.0)
                assert abs(b["pre"] - (b["input"] + b["input_bias"] + memory)) < TOL
                assert abs(b["value"] - b["registry_value"]) < TOL
                want = tr.gates[b["name"]][t, unit] if tr.gates else tr.h[t, unit]
                assert abs(b["value"] - want) < TOL
                mags = [abs(d["value"]) for d in b["top_inputs"]]
                assert mags == sorted(mags, reverse=True) and len(mags) == 3
                assert all(abs(d["x"] * d["weight"] - d["value"]) < TOL for d in b["top_inputs"])
                assert (b["top_memory"] == []) == (t == 0)
            if cell == "lstm":
                assert abs(s["c"] - tr.c[t, unit]) < TOL
                f_c, i_g, c = (v for _, v in s["terms"][:3])
                assert abs(f_c + i_g - c) < TOL
            assert abs(s["terms"][-1][1] - tr.h[t, unit]) < TOL


def test_top_contributions_are_the_largest_terms():
    torch.manual_seed(0)
    model = SentimentRNN(len(VOCAB), "rnn", emb_dim=8, hidden_dim=4).eval()
    tr = trace(model, VOCAB, "good film")
    s = open_step(model, tr, 1, 2, top_k=8)
    b = s["blocks"][0]
    terms = tr.x[1] * model.rnn.weight_ih_l0[2].detach().numpy()
    assert [d["index"] for d in b["top_inputs"]] == list(np.argsort(-np.abs(terms), kind="stable"))
    assert abs(sum(d["value"] for d in b["top_inputs"]) - b["input"]) < TOL


def test_outside_the_sentence_is_refused():
    model = SentimentRNN(len(VOCAB), "gru", emb_dim=4, hidden_dim=3)
    tr = trace(model, VOCAB, "good")
    with pytest.raises(ValueError):
        open_step(model, tr, 1, 0)
    with pytest.raises(ValueError):
        open_step(model, tr, 0, 3)
