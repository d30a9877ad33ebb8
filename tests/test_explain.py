"""The explain package: gradients held to autograd on the fused modules, IG completeness, PCA, neuron index."""
import json

import numpy as np
import pytest
import torch
from conftest import WORDS, make_bundle, scaled_model
from torch.nn import functional as F

from rnn_core.bundle import load_model
from rnn_core.explain.attribution import occlusion, word_importance
from rnn_core.explain.experiments import (
    N_SPECIAL,
    A,
    B,
    exploding_experiment,
    first_token_batch,
    long_range_experiment,
    long_range_sweep,
    set_memory_gate_bias,
)
from rnn_core.explain.gradients import step_gradient_norms
from rnn_core.explain.memory_path import (
    collect_states,
    fit_model_pca,
    fit_pca,
    memory_path,
    pca_from_dict,
    pca_from_json,
    pca_to_dict,
    pca_to_json,
    project,
)
from rnn_core.explain.neurons import build_neuron_index, index_from_json, index_to_json, top_contexts, unit_activation
from rnn_core.model import CELLS, SentimentRNN
from rnn_core.trace import trace


def _model(cell, seed=0, vocab=30, emb=8, hidden=16, scale=2.0):
    return scaled_model(cell, seed, vocab, emb, hidden, scale)


def _texts(n, seed=0, lo=3, hi=12):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(lo, hi))) for _ in range(n)]


# --- gradients through time ----------------------------------------------------------------------------------------

def _reference_grads(m, ids, target, objective):
    """∂L/∂x_t from the fused module, and ∂L/∂h_t by restarting the fused module from a leaf h_t (c_t held fixed)."""
    emb = m.embedding(ids).detach()

    def objective_of(logit):
        return F.binary_cross_entropy_with_logits(logit, torch.tensor(float(target))) if objective == "loss" else logit

    x = emb.clone().requires_grad_(True)
    out, _ = m.rnn(x[None])
    (g_x,) = torch.autograd.grad(objective_of(m.fc(out[0, -1]).squeeze(-1)), x)
    g_h = []
    for t in range(len(ids)):
        with torch.no_grad():
            _, state = m.rnn(emb[None, : t + 1])
        h = (state[0] if m.cell == "lstm" else state).clone().requires_grad_(True)
        if t + 1 < len(ids):
            init = (h, state[1]) if m.cell == "lstm" else h
            out, _ = m.rnn(emb[None, t + 1:], init)
            logit = m.fc(out[0, -1]).squeeze(-1)
        else:
            logit = m.fc(h[0, 0]).squeeze(-1)
        (g,) = torch.autograd.grad(objective_of(logit), h)
        g_h.append(float(g.norm()))
    return g_x.norm(dim=1).numpy(), np.array(g_h)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("objective", ["loss", "logit"])
def test_step_gradients_match_autograd_on_the_fused_module(cell, objective):
    m = _model(cell, seed=1)
    ids = torch.randint(2, 30, (12,), generator=torch.Generator().manual_seed(3))
    ours = step_gradient_norms(m, ids, target=1, objective=objective)
    ref_x, ref_h = _reference_grads(m, ids, 1, objective)
    np.testing.assert_allclose(ours["x_grad_norm"], ref_x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours["h_grad_norm"], ref_h, rtol=1e-4, atol=1e-5)
    assert ours["h_grad_norm"].shape == ours["x_grad_norm"].shape == (12,)
    assert ours["distance"].tolist() == list(range(11, -1, -1))


def test_last_step_gradient_is_the_head_times_dloss_dlogit():
    m = _model("gru", seed=2)
    r = step_gradient_norms(m, [4, 5, 6, 7], target=0)
    dloss_dlogit = r["p"] - 0  # d BCE(sigmoid(z), y) / dz = p - y
    assert r["h_grad_norm"][-1] == pytest.approx(abs(dloss_dlogit) * float(m.fc.weight.detach().norm()), rel=1e-5)
    assert r["loss"] == pytest.approx(-np.log(1 - r["p"]), rel=1e-5)


def test_loss_gradient_is_the_logit_gradient_times_p_minus_y():
    m = _model("lstm", seed=3)
    ids = [5, 6, 7, 8, 9, 10]
    by_loss, by_logit = step_gradient_norms(m, ids, 0, "loss"), step_gradient_norms(m, ids, 0, "logit")
    np.testing.assert_allclose(by_loss["h_grad_norm"], by_logit["p"] * by_logit["h_grad_norm"], rtol=1e-5)
    assert np.isnan(by_logit["loss"]) and by_loss["logit"] == by_logit["logit"]


def test_default_target_is_the_predicted_label_and_training_mode_is_restored():
    m = _model("lstm", seed=4).train()
    r = step_gradient_norms(m, [3, 4, 5])
    assert r["target"] == int(r["p"] >= 0.5) and r["loss"] < np.log(2) + 1e-6  # own label: loss ≤ chance loss
    assert m.training


def test_first_token_batch_labels_depend_only_on_the_first_token():
    ids, y = first_token_batch(200, 7, 5, torch.Generator().manual_seed(0))
    assert ids.shape == (200, 7)
    assert ((ids[:, 0] == A) == (y == 1)).all() and ((ids[:, 0] == B) == (y == 0)).all()
    rest = ids[:, 1:]
    assert ((rest >= N_SPECIAL) & (rest < N_SPECIAL + 5)).all()


def test_memory_gate_bias_sets_forget_and_update_gates_only():
    for cell, block in (("lstm", 1), ("gru", 1)):
        m = SentimentRNN(10, cell, 4, 6)
        set_memory_gate_bias(m, 2.5)
        total = (m.rnn.bias_ih_l0 + m.rnn.bias_hh_l0).detach()
        assert torch.allclose(total[block * 6:(block + 1) * 6], torch.full((6,), 2.5))
    m = SentimentRNN(10, "rnn", 4, 6)
    before = m.rnn.bias_ih_l0.clone()
    set_memory_gate_bias(m, 2.5)
    assert torch.equal(before, m.rnn.bias_ih_l0)


SMALL = {"steps": 6, "n_test": 40, "n_grad": 2, "batch_size": 8, "emb_dim": 4, "hidden_dim": 8}


def test_long_range_experiment_is_deterministic_and_leaves_global_state_alone():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    events = []
    a = long_range_experiment("lstm", 6, seed=5, progress=events.append, **SMALL)
    assert torch.equal(torch.rand(3), expected_next)  # the experiment ran on a forked RNG
    assert torch.get_num_threads() == threads
    b = long_range_experiment("lstm", 6, seed=5, **SMALL)
    c = long_range_experiment("lstm", 6, seed=6, **SMALL)
    assert a["test_accuracy"] == b["test_accuracy"]
    np.testing.assert_array_equal(a["loss"], b["loss"])
    np.testing.assert_array_equal(a["jac_end"], b["jac_end"])
    assert not np.array_equal(a["loss"], c["loss"])
    for key in ("jac_init", "jac_end", "distance"):
        assert a[key].shape == (6,)
    assert a["steps_done"] == len(a["loss"]) <= 6 and 0 <= a["test_accuracy"] <= 1
    assert events[-1]["kind"] == "done" and any(e["kind"] == "step" for e in events)


def test_long_range_sweep_collects_every_cell_length_and_seed():
    events = []
    s = long_range_sweep(("rnn", "gru"), (3, 4), seeds=(0, 1), progress=events.append, **SMALL)
    assert s["lengths"] == [3, 4] and set(s["accuracy"]) == {"rnn", "gru"} and len(s["runs"]) == 8
    assert all(len(v) == 2 for v in s["accuracy"].values())
    assert s["accuracy"]["rnn"][1] == pytest.approx(np.mean(s["accuracy_by_seed"]["rnn"][1]))
    assert [r["seed"] for r in s["runs"][:2]] == [0, 1] and s["runs"][0]["settings"]["seed"] == 0
    assert [e["index"] for e in events if e["kind"] == "run"] == list(range(8))
    stopped = long_range_sweep(("rnn",), (3, 4), should_stop=lambda: True, **SMALL)
    assert stopped["runs"] == [] and stopped["accuracy"]["rnn"] == [] and not stopped["complete"]


def test_exploding_logs_the_norm_before_clipping_and_clipping_bounds_the_step():
    kw = {"steps": 5, "seed": 1, "init_scale": 4.0, "length": 8}
    clipped = exploding_experiment(clip=1e-3, **kw)
    assert (clipped["grad_norm"] > 1e-3).all()  # logged before clipping, so larger than the clip threshold
    assert np.isfinite(clipped["loss"]).all() and clipped["diverged_at"] is None
    again = exploding_experiment(clip=1e-3, **kw)
    np.testing.assert_array_equal(clipped["loss"], again["loss"])
    assert clipped["spectral_radius"] > 1


# --- attribution ---------------------------------------------------------------------------------------------------

IG_TOL = 0.01  # |delta| ≤ 1% of max(1, |f(x) - f(baseline)|)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("target", ["logit", "probability"])
def test_integrated_gradients_are_complete(cell, target):
    m = _model(cell, seed=7)
    ids = torch.randint(2, 30, (15,), generator=torch.Generator().manual_seed(8)).tolist()
    r = word_importance(m, ids, target=target)
    diff = r["f_x"] - r["f_baseline"]
    assert abs(r["delta"]) <= IG_TOL * max(1.0, abs(diff))
    assert r["attributions"].sum() == pytest.approx(diff, abs=IG_TOL * max(1.0, abs(diff)))
    assert r["attributions"].sum() - diff == pytest.approx(r["delta"], abs=1e-5)
    with torch.no_grad():
        logit = float(m(torch.tensor([ids]), torch.tensor([15])))
    assert r["f_x"] == pytest.approx(logit if target == "logit" else 1 / (1 + np.exp(-logit)), abs=1e-5)


def test_a_chaotic_net_gets_a_finer_integral_or_is_flagged():
    m = _model("rnn", seed=0, scale=4.0)  # tanh RNN with large weights: the output wiggles along the IG path
    ids = torch.randint(2, 30, (10,), generator=torch.Generator().manual_seed(0)).tolist()
    coarse = word_importance(m, ids, n_steps=16, max_steps=16)
    assert not coarse["converged"] and coarse["n_steps"] == 16
    assert abs(coarse["delta"]) > IG_TOL * max(1.0, abs(coarse["f_x"] - coarse["f_baseline"]))
    fine = word_importance(m, ids, n_steps=16, max_steps=128)
    assert fine["converged"] and fine["n_steps"] == 128
    assert abs(fine["delta"]) <= IG_TOL * max(1.0, abs(fine["f_x"] - fine["f_baseline"]))


def test_a_word_with_the_baseline_embedding_gets_zero_attribution():
    m = _model("lstm", seed=9)
    with torch.no_grad():
        m.embedding.weight[5] = 0  # token 5 now looks exactly like <pad>, the baseline
    r = word_importance(m, [3, 5, 4, 5, 6])
    assert r["attributions"][1] == 0 and r["attributions"][3] == 0
    assert np.abs(r["attributions"][[0, 2, 4]]).min() > 0
    occ = occlusion(m, [3, 5, 4, 5, 6], replace_with="pad")
    assert occ["drop"][1] == 0 and occ["drop"][3] == 0


def test_occlusion_is_its_definition():
    m = _model("gru", seed=10)
    ids = [4, 9, 2, 7]
    with torch.no_grad():
        f = lambda s: float(m(torch.tensor([s]), torch.tensor([len(s)])))  # noqa: E731
        full = f(ids)
        variants = {"unk": lambda t: ids[:t] + [1] + ids[t + 1:], "remove": lambda t: ids[:t] + ids[t + 1:]}
        for mode, variant in variants.items():
            r = occlusion(m, ids, replace_with=mode)
            np.testing.assert_allclose(r["drop"], [full - f(variant(t)) for t in range(4)], atol=1e-5)
        one = occlusion(m, [4], replace_with="remove")
        assert one["drop"][0] == pytest.approx(f([4]) - float(m.fc(torch.zeros(16))), abs=1e-5)


def test_ig_and_occlusion_agree_on_a_nearly_linear_model():
    m = _model("rnn", seed=11, scale=0.2, emb=16)
    ids = list(range(2, 14))
    ig, occ = word_importance(m, ids), occlusion(m, ids, replace_with="pad")
    assert np.corrcoef(ig["attributions"], occ["drop"])[0, 1] > 0.95


# --- PCA -----------------------------------------------------------------------------------------------------------

def test_pca_finds_the_main_directions_with_a_fixed_sign():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 1)), rng.normal(size=(500, 1))
    e1, e2 = np.eye(6)[2], np.eye(6)[4]
    H = 5.0 + 10 * a * e1 - 3 * b * e2 + 0.01 * rng.normal(size=(500, 6))
    pca = fit_pca(H)
    np.testing.assert_allclose(np.abs(pca["components"]), np.stack([e1, e2]), atol=1e-2)
    assert (pca["components"][[0, 1], [2, 4]] > 0).all()  # sign rule: largest loading positive
    assert pca["explained_variance_ratio"][0] > 0.9 > pca["explained_variance_ratio"][1] > 0.05
    xy = project(pca, H)
    assert xy.shape == (500, 2) and np.abs(xy.mean(axis=0)).max() < 1e-9
    with pytest.raises(ValueError):
        fit_pca(H[:1])


def test_pca_json_round_trip_and_rejects_garbage():
    pca = fit_pca(np.random.default_rng(1).normal(size=(20, 5)))
    for back in (pca_from_json(pca_to_json(pca)), pca_from_dict(json.loads(json.dumps(pca_to_dict(pca))))):
        for k in ("mean", "components", "explained_variance_ratio"):
            np.testing.assert_array_equal(back[k], pca[k])
    assert len(pca_to_json(fit_pca(np.random.default_rng(2).normal(size=(50, 128))))) < 10_000
    for bad in ("[]", "{", json.dumps({"format": "rnn-lens-pca/1", "mean": [0, 0], "components": [[1, 0, 0]],
                                        "explained_variance_ratio": [1]})):
        with pytest.raises(ValueError):
            pca_from_json(bad)


def test_states_and_paths_come_from_the_trace(tmp_path):
    b = load_model(make_bundle(tmp_path / "m", "lstm"))
    texts = _texts(30)
    H = collect_states(b.model, b.vocab, texts, n_texts=10, seed=3)
    assert np.array_equal(H, collect_states(b.model, b.vocab, texts, n_texts=10, seed=3))
    assert not np.array_equal(H, collect_states(b.model, b.vocab, texts, n_texts=10, seed=4))
    pca = fit_model_pca(b.model, b.vocab, texts, n_texts=10, seed=3)
    assert pca["fitted_on"]["n_states"] == len(H) and H.shape[1] == 16
    tr = trace(b.model, b.vocab, "the movie was not good")
    path = memory_path(tr, pca)
    np.testing.assert_allclose(path["xy"], (tr.h - pca["mean"]) @ pca["components"].T)
    assert path["tokens"] == list(tr.tokens) and path["prefix_p"].shape == (5,)
    assert memory_path(tr, pca, state="c")["xy"].shape == (5, 2)


# --- neurons -------------------------------------------------------------------------------------------------------

def test_neuron_index_holds_each_units_true_extremes(tmp_path):
    b = load_model(make_bundle(tmp_path / "m", "gru"))
    texts = _texts(40, seed=1)
    idx = build_neuron_index(b.model, b.vocab, texts, n_texts=40, k=3, window=2)
    traces = [trace(b.model, b.vocab, t) for t in texts]
    for unit in (0, 7, 15):
        pos, neg = top_contexts(idx, unit, "pos"), top_contexts(idx, unit, "neg")
        assert len(pos) == len(neg) == 3
        assert pos[0]["activation"] == pytest.approx(max(tr.h[:, unit].max() for tr in traces), abs=1e-4)
        assert neg[0]["activation"] == pytest.approx(min(tr.h[:, unit].min() for tr in traces), abs=1e-4)
        assert [e["activation"] for e in pos] == sorted((e["activation"] for e in pos), reverse=True)
        assert [e["activation"] for e in neg] == sorted(e["activation"] for e in neg)
        for e in pos:
            assert len(e["left"]) <= 2 and len(e["right"]) <= 2 and e["left"] == e["left"][-e["t"]:][:2]
    assert index_from_json(index_to_json(idx)) == idx
    with pytest.raises(ValueError):
        top_contexts(idx, 16)
    with pytest.raises(ValueError):
        index_from_json(json.dumps({"format": "rnn-lens-neurons/1", "n_units": 2, "units": [{}]}))


def test_neuron_index_of_a_128_unit_model_stays_small(tmp_path):
    b = load_model(make_bundle(tmp_path / "big", "lstm", hidden=128))
    idx = build_neuron_index(b.model, b.vocab, _texts(60, seed=2, lo=20, hi=50), n_texts=60, k=8, window=3)
    assert idx["n_units"] == 128 and all(len(u["pos"]) == len(u["neg"]) == 8 for u in idx["units"])
    assert len(index_to_json(idx).encode("utf-8")) < 2_000_000


def test_unit_activation_reads_the_trace(tmp_path):
    b = load_model(make_bundle(tmp_path / "m", "lstm"))
    tr = trace(b.model, b.vocab, "good movie , not boring")
    act = unit_activation(tr, 3)
    assert act["tokens"] == list(tr.tokens) and np.array_equal(act["values"], tr.h[:, 3])
    assert np.array_equal(unit_activation(tr, 3, state="c")["values"], tr.c[:, 3])
    with pytest.raises(ValueError):
        unit_activation(tr, 16)
