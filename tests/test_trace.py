"""The trace is the one hand-written implementation of the cells: hold it to PyTorch's fused modules."""
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
import torch

from rnn_core.model import CELLS, SentimentRNN, pad_batch
from rnn_core.text import Vocab
from rnn_core.trace import GATE_NAMES, trace, unroll

TOL = 1e-5


def _model(cell, seed=0, vocab=60, emb=100, hidden=128):
    torch.manual_seed(seed)
    m = SentimentRNN(vocab, cell, emb, hidden).eval()
    with torch.no_grad():  # larger-than-default weights so the gates actually saturate and tanh bends
        for p in m.rnn.parameters():
            p.mul_(3)
    return m


@pytest.mark.parametrize("cell", CELLS)
def test_unrolled_states_match_fused_module_for_all_lengths(cell):
    m = _model(cell)
    gen = torch.Generator().manual_seed(1)
    for length in range(1, 51):
        ids = torch.randint(2, 60, (length,), generator=gen)
        with torch.no_grad():
            ours = unroll(m, ids)
            out, state = m.rnn(m.embedding(ids)[None])
        assert ours["h"].shape == (length, 128)
        assert torch.allclose(ours["h"], out[0], atol=TOL), f"h differs at length {length}"
        if cell == "lstm":
            assert torch.allclose(ours["c"][-1], state[1][0, 0], atol=TOL), f"c differs at length {length}"


@pytest.mark.parametrize("cell", CELLS)
def test_prefix_probability_matches_batched_forward(cell):
    m = _model(cell, seed=3)
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(58)])
    gen = torch.Generator().manual_seed(2)
    for length in (1, 2, 7, 30, 50):
        words = [f"w{i}" for i in torch.randint(0, 58, (length,), generator=gen).tolist()]
        tr = trace(m, vocab, " ".join(words))
        ids, lengths = pad_batch([tr.ids])
        p = float(m.predict_proba(ids, lengths)[0])
        assert abs(tr.p - p) < TOL
        # every prefix probability is the full model run on that prefix
        t = length // 2
        ids_t, len_t = pad_batch([tr.ids[: t + 1]])
        assert abs(tr.prefix_p[t] - float(m.predict_proba(ids_t, len_t)[0])) < TOL


def test_lstm_gates_are_consistent_with_state():
    m = _model("lstm", seed=5)
    vocab = Vocab(["<pad>", "<unk>", "a", "b", "c"])
    tr = trace(m, vocab, "a b c a a b")
    g = tr.gates
    assert set(g) == set(GATE_NAMES["lstm"])
    c_prev = np.vstack([np.zeros((1, 128)), tr.c[:-1]])
    np.testing.assert_allclose(tr.c, g["forget"] * c_prev + g["input"] * g["candidate"], atol=TOL)
    np.testing.assert_allclose(tr.h, g["output"] * np.tanh(tr.c), atol=TOL)
    for name in ("input", "forget", "output"):
        assert ((g[name] > 0) & (g[name] < 1)).all()


def test_gru_update_gate_interpolates_between_past_and_candidate():
    m = _model("gru", seed=6)
    vocab = Vocab(["<pad>", "<unk>", "a", "b"])
    tr = trace(m, vocab, "a b b a")
    g = tr.gates
    h_prev = np.vstack([np.zeros((1, 128)), tr.h[:-1]])
    np.testing.assert_allclose(tr.h, (1 - g["update"]) * g["candidate"] + g["update"] * h_prev, atol=TOL)


@pytest.mark.parametrize("cell", CELLS)
def test_padding_does_not_change_any_sentence(cell):
    m = _model(cell, seed=7)
    gen = torch.Generator().manual_seed(4)
    sents = [torch.randint(2, 60, (n,), generator=gen).tolist() for n in (3, 50, 1, 17)]
    together = m.predict_proba(*pad_batch(sents))
    for i, s in enumerate(sents):
        alone = m.predict_proba(*pad_batch([s]))
        assert abs(float(together[i]) - float(alone[0])) < TOL


def test_trace_reports_tokens_unknowns_and_truncation():
    m = _model("rnn")
    vocab = Vocab(["<pad>", "<unk>", "good"])
    tr = trace(m, vocab, "good zzz " * 40)
    assert len(tr.tokens) == 50 and tr.truncated and tr.n_total == 80
    assert tr.unknown[:2] == (False, True)
    assert tr.h.shape == (50, 128) and tr.prefix_p.shape == (50,) and tr.c is None and tr.gates == {}
    d = tr.to_dict()
    assert d["label"] in ("positive", "negative") and len(d["h"]) == 50
    rows = tr.to_csv().splitlines()
    assert len(rows) == 51 and rows[0].startswith("t,token,id,unknown,prefix_p,h_0")


def test_trace_csv_defuses_spreadsheet_formulas():
    m = _model("rnn")
    tr = trace(m, Vocab(["<pad>", "<unk>"]), "= + @")
    assert [line.split(",")[1] for line in tr.to_csv().splitlines()[1:]] == ["'=", "'+", "'@"]


def test_trace_of_empty_text_is_an_input_error():
    from rnn_core.errors import InputError

    with pytest.raises(InputError):
        trace(_model("gru"), Vocab(), " \u200b\t ")


def test_a_trace_cannot_be_changed_by_one_of_the_sessions_that_share_it():
    tr = trace(_model("lstm"), Vocab(["<pad>", "<unk>", "good"]), "good good")
    with pytest.raises(FrozenInstanceError):
        tr.cell = "gru"
    with pytest.raises(ValueError):  # numpy: assignment destination is read-only
        tr.h[0, 0] = 1.0
    with pytest.raises(ValueError):
        tr.gates["forget"][0, 0] = 1.0
    with pytest.raises(TypeError):
        tr.gates["forget"] = None
    with pytest.raises(AttributeError):
        tr.tokens.append("bad")


def test_an_unknown_cell_is_refused_not_mapped_to_another():
    with pytest.raises(ValueError, match="unknown cell 'elman'"):
        SentimentRNN(10, "elman")
    m = _model("gru")
    m.cell = "elman"  # a model whose cell name is not registered must not silently take GRU's equations
    with pytest.raises(ValueError, match="unknown cell"):
        unroll(m, torch.tensor([2, 3]))
