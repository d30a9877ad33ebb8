"""The gradient lab: Jacobians held to autograd on the fused modules, reproducible step-budgeted experiments, the
exploding demo's claims, captions written from the numbers, and the CLI printing what the page shows."""
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import scaled_model
from torch.autograd.functional import jacobian

from rnn_core.cli import main
from rnn_core.explain import captions
from rnn_core.explain import experiments as lab
from rnn_core.explain import gradients as g
from rnn_core.explain.commands import exploding_runs, exploding_text
from rnn_core.model import CELLS, SentimentRNN

ROOT = Path(__file__).resolve().parents[1]


def _model(cell, seed=0, vocab=30, emb=8, hidden=12, scale=2.0):
    return scaled_model(cell, seed, vocab, emb, hidden, scale)


def _ids(n, seed=3):
    return torch.randint(2, 30, (n,), generator=torch.Generator().manual_seed(seed))


# --- the Jacobian product -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_state_jacobians_match_autograd_on_the_fused_module(cell):
    """J[t] = ∂h_T/∂h_t from trace.unroll equals torch.autograd.functional.jacobian of the fused nn.RNN/LSTM/GRU
    restarted from h_t (for the LSTM with c_t as the fused module left it)."""
    m, ids = _model(cell, seed=1), _ids(9)
    ours = g.state_jacobians(m, ids)
    x = m.embedding(ids).detach()[None]
    with torch.no_grad():
        out, _ = m.rnn(x)
    for t in range(len(ids)):
        with torch.no_grad():
            _, state = m.rnn(x[:, : t + 1])
        c_t = state[1] if cell == "lstm" else None

        def h_last(h, t=t, c_t=c_t):
            if t + 1 == len(ids):
                return h
            init = (h[None, None], c_t) if c_t is not None else h[None, None]
            return m.rnn(x[:, t + 1:], init)[0][0, -1]

        ref = jacobian(h_last, out[0, t])
        torch.testing.assert_close(ours[t], ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g.jacobian_norms(m, ids), torch.linalg.matrix_norm(ours, ord=2).numpy(), rtol=1e-6)


def test_rnn_jacobian_is_the_product_of_tanh_prime_times_w_hh():
    m, ids = _model("rnn", seed=2), _ids(7)
    J = g.state_jacobians(m, ids)
    with torch.no_grad():
        h = m.rnn(m.embedding(ids)[None])[0][0]
        w = m.rnn.weight_hh_l0
        prod = torch.eye(12)
        for k in range(len(ids) - 1, 0, -1):  # J[t] = Π_{k=t+1..T} diag(1 - h_k²) W_hh, built from the end
            prod = prod @ torch.diag(1 - h[k] ** 2) @ w
            torch.testing.assert_close(J[k - 1], prod, rtol=1e-4, atol=1e-6)
        factors = [float(torch.linalg.matrix_norm(torch.diag(1 - h[k] ** 2) @ w, ord=2)) for k in range(1, 7)]
    np.testing.assert_allclose(g.step_factors(m, ids), factors, rtol=1e-4)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_factors_bound_the_product_when_the_state_is_h_alone(cell):
    r = g.sentence_jacobians(_model(cell, seed=4), _ids(8), long_len=20)
    assert not r["cell_state"]
    for state in ("trained", "untrained"):
        assert np.prod(r[state]["factors"]) >= r[state]["short"]["first"] * (1 - 1e-5)
    assert g.sentence_jacobians(_model("lstm"), _ids(3), long_len=5)["cell_state"]


def test_sentence_jacobians_compare_the_trained_net_with_a_seeded_fresh_one():
    m = _model("lstm", seed=5)
    torch.manual_seed(99)
    expected_next = torch.rand(2)
    torch.manual_seed(99)
    r = g.sentence_jacobians(m, [4, 5, 6], long_len=10)
    assert torch.equal(torch.rand(2), expected_next)  # the fresh init used a forked RNG
    assert (r["n_short"], r["n_long"]) == (3, 10) and r["cell"] == "lstm"
    for state in ("trained", "untrained"):
        for which, n in (("short", 3), ("long", 10)):
            c = r[state][which]
            assert c["norms"].shape == (n,) and c["norms"][-1] == pytest.approx(1, rel=1e-5)  # ∂h_T/∂h_T = I
            assert c["first"] == c["norms"][0] and c["per_step"] == pytest.approx(c["first"] ** (1 / (n - 1)))
    assert not np.allclose(r["trained"]["long"]["norms"], r["untrained"]["long"]["norms"])
    fresh, again = g.untrained_like(m), g.untrained_like(m)
    assert torch.equal(fresh.rnn.weight_hh_l0, again.rnn.weight_hh_l0)
    assert torch.equal(fresh.embedding.weight, m.embedding.weight) and torch.equal(fresh.fc.weight, m.fc.weight)
    assert not torch.equal(fresh.rnn.weight_hh_l0, m.rnn.weight_hh_l0)
    assert g.repeat_to([7, 8, 9], 7) == [7, 8, 9, 7, 8, 9, 7]


def test_recurrent_matrix_stats_give_a_radius_only_for_a_square_w_hh():
    rnn, gru = SentimentRNN(10, "rnn", 4, 6), SentimentRNN(10, "gru", 4, 6)
    s = g.recurrent_matrix_stats(rnn)
    w = rnn.rnn.weight_hh_l0.detach().numpy()
    assert s["spectral_radius"] == pytest.approx(np.abs(np.linalg.eigvals(w)).max(), rel=1e-5)
    assert s["spectral_norm"] == pytest.approx(np.linalg.norm(w, 2), rel=1e-5)
    assert g.recurrent_matrix_stats(gru)["spectral_radius"] is None


# --- the long-range experiment --------------------------------------------------------------------------------------

SMALL = {"steps": 8, "n_test": 40, "n_grad": 2, "batch_size": 8, "emb_dim": 4, "hidden_dim": 8}


def test_long_range_is_budgeted_in_steps_and_two_runs_are_equal():
    a = lab.long_range_sweep(("rnn", "lstm"), (3, 6), seeds=(0, 1), **SMALL)
    b = lab.long_range_sweep(("rnn", "lstm"), (3, 6), seeds=(0, 1), **SMALL)
    assert a["accuracy_by_seed"] == b["accuracy_by_seed"] and a["steps_by_seed"] == b["steps_by_seed"]
    for ra, rb in zip(a["runs"], b["runs"]):
        np.testing.assert_array_equal(ra["loss"], rb["loss"])
        np.testing.assert_array_equal(ra["jac_init"], rb["jac_init"])
    assert all(r["steps_done"] <= 8 for r in a["runs"])
    with pytest.raises(TypeError):
        lab.long_range_experiment("rnn", 3, time_budget_s=1.0)  # there is no clock budget any more


def test_long_range_stops_cleanly_when_asked():
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    s = lab.long_range_sweep(("gru",), (4, 5), seeds=(0,), should_stop=stop, **SMALL)
    assert not s["complete"] and s["accuracy"]["gru"] == [] and s["runs"] == []


def test_shipped_default_sweep_is_what_the_code_computes_and_tells_the_lesson():
    shipped = lab.default_sweep()
    assert shipped is not None and shipped["settings"] == lab.LONG_RANGE
    assert shipped["lengths"] == list(lab.LONG_LENGTHS) and shipped["seeds"] == list(lab.LONG_SEEDS)
    # Rerun the cheap runs (those that solve early) and compare: the data must not go stale.
    for cell, length in (("rnn", 5), ("lstm", 10), ("gru", 20)):
        live = lab.long_range_experiment(cell, length, seed=0)
        saved = next(r for r in shipped["runs"] if (r["cell"], r["length"], r["seed"]) == (cell, length, 0))
        assert live["test_accuracy"] == saved["test_accuracy"] and live["steps_done"] == saved["steps_done"]
        np.testing.assert_allclose(live["jac_end"], saved["jac_end"], rtol=1e-4)
    acc = dict(zip(shipped["lengths"], zip(*(shipped["accuracy"][c] for c in CELLS))))
    assert min(acc[5]) >= 0.99 and min(acc[10]) >= 0.95
    assert all(acc[n][0] < 0.6 for n in (20, 40, 80))  # the plain RNN is at chance from length 20
    assert all(min(acc[n][1:]) >= 0.95 for n in shipped["lengths"])  # gated cells hold at every length
    text = captions.long_range_caption(shipped)
    assert "RNN: at least 95 % up to length 10." in text and "GRU: at least 95 % up to length 80." in text


def test_page_refuses_a_live_sweep_far_bigger_than_the_default(app):
    at = _page(app)
    at.multiselect[0].set_value([5, 10, 20, 40, 80, 100])
    at.multiselect[1].set_value([0, 1, 2, 3, 4])
    at.select_slider[0].set_value(2000)
    at.button[0].click().run()
    assert not at.exception and any("more than twice the work" in w.value for w in at.warning)
    assert any(lab.DEFAULT_COMMAND in c.value for c in at.caption)  # still the shipped results


def test_is_default_recognises_only_the_shipped_settings():
    assert lab.is_default([80, 40, 20, 10, 5], [0, 1, 2], steps=1000, gate_bias=3.0)
    assert not lab.is_default([5, 10], [0, 1, 2])
    assert not lab.is_default(list(lab.LONG_LENGTHS), [0, 1, 2], gate_bias=None)


# --- exploding ------------------------------------------------------------------------------------------------------

def test_exploding_defaults_unclipped_blows_up_and_clipped_holds():
    res = exploding_runs()
    free, clipped = res["summaries"]
    chance = math.log(2)
    assert free["blew_up"] and free["max_loss"] > 10 * chance and free["final_loss"] > 3 * chance
    assert free["max_grad_step"] == 1 and free["max_update_norm"] > 100 * lab.EXPLODING["lr"] * 0.25
    assert free["max_w_hh_norm"] > 1.5 * free["start_w_hh_norm"]  # one huge step wrecks the weights
    assert not clipped["blew_up"] and clipped["max_loss"] < 2 and clipped["final_loss"] < 0.01
    run = res["runs"][1]
    assert (run["used_norm"] <= 0.25 * (1 + 1e-5)).all()  # the update's gradient never exceeds the threshold
    assert (run["grad_norm"] >= run["used_norm"] * (1 - 1e-6)).all()
    np.testing.assert_allclose(run["update_norm"], lab.EXPLODING["lr"] * run["used_norm"], rtol=1e-3)
    assert clipped["max_update_norm"] <= lab.EXPLODING["lr"] * 0.25 * (1 + 1e-3)
    np.testing.assert_allclose(res["runs"][0]["used_norm"], res["runs"][0]["grad_norm"], rtol=1e-5)  # no clipping
    once, again = exploding_runs(steps=40), exploding_runs(steps=40)  # the same settings, the same numbers
    np.testing.assert_array_equal(once["runs"][0]["loss"], again["runs"][0]["loss"])
    np.testing.assert_array_equal(once["runs"][1]["used_norm"], again["runs"][1]["used_norm"])
    np.testing.assert_array_equal(once["runs"][0]["loss"], res["runs"][0]["loss"][:40])  # a prefix of the long run
    radius, result = exploding_text(res, "en")
    assert f"{res['runs'][0]['spectral_radius']:.2f}" in radius
    assert result.startswith("Without clipping the largest gradient norm was") and "With clipping at 0.25" in result


EMULATED = """
import json
from rnn_core.explain.commands import exploding_runs
res = exploding_runs()
print(json.dumps({"first": [float(r["grad_norm"][0]) for r in res["runs"]], "summaries": res["summaries"]}))
"""


def test_exploding_defaults_give_the_same_outcome_with_other_cpu_kernels():
    """Another machine, emulated: ATEN_CPU_CAPABILITY=default makes torch use its plain (non-AVX) kernels, which
    round differently. The first gradient agrees to rounding; the outcome (unclipped blows up, clipped solves the
    task) must not depend on the rounding."""
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", EMULATED], env=env, capture_output=True, text=True, timeout=300,
                         check=True)
    other = json.loads(out.stdout.strip().splitlines()[-1])
    here = exploding_runs()
    np.testing.assert_allclose(other["first"], [float(r["grad_norm"][0]) for r in here["runs"]], rtol=1e-4)
    chance = math.log(2)
    for free, clipped in (other["summaries"], here["summaries"]):
        assert free["blew_up"] and free["max_loss"] > 10 * chance and free["final_loss"] > 3 * chance
        assert not clipped["blew_up"] and clipped["max_loss"] < 2 and clipped["final_loss"] < 0.01


def test_spectral_radius_is_about_0_6_at_scale_1_and_passes_1_near_1_7():
    r = lab.radius_by_scale([1.0, 5.0])
    assert 0.5 < r["spectral_radius"][0] < 0.7 and 1.4 < r["crossing"] < 2.0
    assert r["spectral_radius"][1] == pytest.approx(5 * r["spectral_radius"][0])
    run = lab.exploding_experiment(init_scale=5.0, steps=1)
    assert run["spectral_radius"] == pytest.approx(r["spectral_radius"][1], rel=1e-5)


def test_exploding_caption_follows_the_numbers():
    base = {"max_grad_norm": 3.0, "max_grad_step": 2, "max_used_norm": 3.0, "max_update_norm": 9.0,
            "max_loss": 0.8, "final_loss": 0.5, "max_w_hh_norm": 1.2, "start_w_hh_norm": 1.1, "diverged_at": None,
            "chance_loss": math.log(2), "blew_up": False}
    clipped = {**base, "clip": 0.25, "max_used_norm": 0.25}
    assert captions.exploding_caption(base, clipped).startswith("Without clipping nothing blew up")
    nan = captions.exploding_caption({**base, "diverged_at": 7, "blew_up": True}, clipped, "ru")
    assert nan.startswith("Без обрезки обучение разошлось: на шаге 7")


# --- captions on the sentence ---------------------------------------------------------------------------------------

def _report(cell, short_first, long_first, n=5, rho=(1.1, 0.6)):
    def curve(first, n):
        norms = np.geomspace(first, 1, n)
        return {"norms": norms, "distance": np.arange(n - 1, -1, -1), "first": first,
                "per_step": first ** (1 / (n - 1))}
    stats = lambda r: {"spectral_radius": r if cell == "rnn" else None, "spectral_norm": 1.5}  # noqa: E731
    return {"cell": cell, "n_short": n, "n_long": 50, "cell_state": cell == "lstm",
            "trained": {"short": curve(short_first, n), "long": curve(long_first, 50), "factors": np.full(n - 1, 1.2),
                        "w_hh": stats(rho[0])},
            "untrained": {"short": curve(1e-3, n), "long": curve(1e-10, 50), "factors": np.full(n - 1, 0.6),
                          "w_hh": stats(rho[1])}}


def test_jacobian_caption_says_when_the_trained_rnn_does_not_vanish():
    holds = captions.jacobian_caption({"rnn": _report("rnn", 0.9, 0.05), "gru": _report("gru", 0.5, 0.2)})
    assert "The trained RNN does not vanish on your sentence (5 words)" in holds
    assert "from 0.60 to 1.10" in holds and "The gated cells keep more of it" in holds
    gone = captions.jacobian_caption({"rnn": _report("rnn", 0.01, 1e-6), "lstm": _report("lstm", 0.5, 1e-7)})
    assert "has already fallen to 0.01" in gone and "Here LSTM keeps less than the trained RNN" in gone
    rows = captions.jacobian_table({"rnn": _report("rnn", 0.9, 0.05)}, "ru")
    assert rows[0]["ячейка"] == "RNN" and rows[0]["обученная: ‖∂h_T/∂h_1‖₂"] == "0,9"


# --- the command line prints what the page shows --------------------------------------------------------------------

def _cli(capsys, *argv):
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_cli_gradients_json_is_sentence_jacobians(tiny_bundle, capsys):
    from rnn_core.bundle import load_model
    from rnn_core.trace import trace

    out = json.loads(_cli(capsys, "explain", "gradients", "--model", str(tiny_bundle), "--json", "good movie"))
    b = load_model(tiny_bundle)
    ref = g.sentence_jacobians(b.model, trace(b.model, b.vocab, "good movie").ids)
    got = out["reports"]["lstm"]
    np.testing.assert_allclose(got["trained"]["long"]["norms"], ref["trained"]["long"]["norms"], rtol=1e-5)
    np.testing.assert_allclose(got["untrained"]["factors"], ref["untrained"]["factors"], rtol=1e-5)
    assert out["tokens"] == ["good", "movie"]


def test_cli_attribution_matches_the_functions(tiny_bundle, capsys):
    from rnn_core.bundle import load_model
    from rnn_core.explain.attribution import occlusion, word_importance
    from rnn_core.trace import trace

    b = load_model(tiny_bundle)
    tr = trace(b.model, b.vocab, "not good fun")
    ig = json.loads(_cli(capsys, "explain", "importance", "--model", str(tiny_bundle), "--json", "not good fun"))
    np.testing.assert_allclose(ig["values"], word_importance(b.model, tr.ids, tr.tokens)["attributions"], rtol=1e-4,
                               atol=1e-6)
    occ = json.loads(_cli(capsys, "explain", "occlusion", "--model", str(tiny_bundle), "--json", "not good fun"))
    np.testing.assert_allclose(occ["values"], occlusion(b.model, tr.ids, tr.tokens)["drop"], rtol=1e-5, atol=1e-7)


def test_cli_rejects_bad_settings_in_one_line(capsys):
    assert main(["explain", "longrange", "--lengths", "5", "--write-default"]) == 2
    assert "default sweep only" in capsys.readouterr().err
    assert main(["explain", "exploding", "--clip", "-1"]) == 2
    assert "clip must be positive" in capsys.readouterr().err


def test_cli_longrange_shipped_prints_the_table(capsys):
    out = _cli(capsys, "explain", "longrange", "--shipped", "--ui", "ru")
    assert out.splitlines()[0] == "| длина | RNN | LSTM | GRU |"
    assert "| 80 |" in out and "Средняя точность на тесте по сидам 0, 1, 2" in out


def _page(app, text="good movie"):
    at = app(text=text)
    at.switch_page("app_pages/gradients.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _sentence_text(at):
    return next(m.value for m in at.markdown if m.value.startswith("Before training"))


def test_page_and_cli_print_the_same_gradient_numbers(app, models_root, capsys):
    at = _page(app, "good fun movie")
    cli = _cli(capsys, "explain", "gradients", *[a for c in CELLS for a in ("--model", f"en-{c}")], "good fun movie")
    table = captions.markdown(at.table[0].value.to_dict("records"))
    assert table.startswith("| cell") and table in cli and _sentence_text(at) in cli
    factors = next(c.value for c in at.caption if c.value.startswith("One step back through the LSTM"))
    assert factors in cli  # the page's default cell is the LSTM: its factors are drawn


def test_cell_selector_drives_the_factor_chart(app):
    at = app(text="good fun movie", cell="GRU")
    at.switch_page("app_pages/gradients.py").run()
    spec = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert "GRU" in spec["layout"]["title"]["text"]
    assert any(c.value.startswith("One step back through the GRU") for c in at.caption)


def test_page_shows_the_shipped_sweep_and_runs_a_live_one_like_the_cli(app, capsys):
    at = _page(app)
    shipped = next(m.value for m in at.markdown if m.value.startswith("Mean test accuracy"))
    assert shipped in _cli(capsys, "explain", "longrange", "--shipped")
    assert any(lab.DEFAULT_COMMAND in c.value for c in at.caption)
    at.multiselect[0].set_value([5, 10])
    at.multiselect[1].set_value([0])
    at.select_slider[0].set_value(250)
    at.button[0].click().run()
    assert not at.exception
    live = next(m.value for m in at.markdown if m.value.startswith("Mean test accuracy"))
    cli = _cli(capsys, "explain", "longrange", "--lengths", "5", "10", "--steps", "250")
    assert live in cli and re.search(r"\| 10 \|", cli) and "Live run: 6 runs" in " ".join(c.value for c in at.caption)


def test_page_and_cli_print_the_same_exploding_numbers(app, capsys):
    at = _page(app)
    at.select_slider[2].set_value(3.0)  # after the long-range form's steps and gate bias
    at.button[1].click().run()
    assert not at.exception
    radius = next(m.value for m in at.markdown if m.value.startswith("Scale 3"))
    result = next(m.value for m in at.markdown if m.value.startswith("Without clipping"))
    cli = _cli(capsys, "explain", "exploding", "--scale", "3")
    assert radius in cli and result in cli


def test_importance_page_and_cli_print_the_same_check(app, capsys):
    at = app(text="good fun movie")
    at.switch_page("app_pages/importance.py").run()
    check = next(c.value for c in at.caption if "add up to" in c.value)
    total, diff = (float(x) for x in re.findall(r"(-?\d+\.\d+)", check)[:2])
    out = json.loads(_cli(capsys, "explain", "importance", "--model", "en-lstm", "--json", "good fun movie"))
    assert f"{out['sum']:.3f}" == f"{total:.3f}" and f"{out['f_x'] - out['f_baseline']:.3f}" == f"{diff:.3f}"


def test_a_one_word_sentence_has_no_factors_but_still_a_long_sentence(app):
    at = _page(app, "good")
    assert not at.error and len(at.get("plotly_chart")) == 4  # no factor bars for a single word
    assert any(c.value.startswith("A one-word sentence has no step") for c in at.caption)
    assert at.table[0].value.to_dict("records")[0]["words"] == "1"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_what_the_page_says_about_the_shipped_models_on_the_default_sentence(lang):
    """Rule 7: the lesson the captions draw on the default sentence holds for the committed bundles."""
    from rnn_core import examples
    from rnn_core.bundle import MODELS_DIR, load_model
    from rnn_core.trace import trace

    reports = {}
    for cell in CELLS:
        b = load_model(MODELS_DIR / f"{lang}-{cell}")
        reports[cell] = g.sentence_jacobians(b.model, trace(b.model, b.vocab, examples.default_text(lang)).ids)
    for r in reports.values():  # untrained, every cell vanishes on the 50-word sentence; training helps each one
        assert r["untrained"]["long"]["first"] < 1e-6 and r["trained"]["long"]["first"] > 100 * r["untrained"][
            "long"]["first"]
    rnn = reports["rnn"]
    # training moved the RNN's W_hh to the edge (ρ ≈ 1), so on the short default sentence its product holds
    assert rnn["untrained"]["w_hh"]["spectral_radius"] < 0.7 < 0.95 < rnn["trained"]["w_hh"]["spectral_radius"]
    text = captions.jacobian_caption(reports, "en")
    assert "The trained RNN does not vanish on your sentence" in text
    # ... but on 50 words it fades by orders of magnitude, and the gated cells keep more of it (both languages)
    assert rnn["trained"]["long"]["first"] < rnn["trained"]["short"]["first"] / 100
    assert min(reports[c]["trained"]["long"]["first"] for c in ("lstm", "gru")) > rnn["trained"]["long"]["first"]
    assert "The gated cells keep more of it than the RNN" in text


def test_lab_experiments_wait_their_turn_in_the_server_queue(app, monkeypatch):
    import app_pages.jobs as jobs

    calls = []

    def fake_run_here(fn, name, on_wait=None, progress=None):
        calls.append(name)
        if name == "long-range":
            raise jobs.QueueFull("queue_full", slots=1, waiting=3)
        return fn(None, lambda: len(calls) > 99)  # the page hands the queue's should_stop to the experiment

    monkeypatch.setattr(jobs, "run_here", fake_run_here)
    at = _page(app)
    at.button[1].click().run()
    assert calls == ["exploding"] and any(m.value.startswith("Without clipping") for m in at.markdown)
    at.multiselect[0].set_value([5, 10])
    at.button[0].click().run()
    assert calls == ["exploding", "long-range"] and at.error  # a full queue is a message, not a traceback
    assert any(lab.DEFAULT_COMMAND in c.value for c in at.caption)  # and the shipped results stay on the page
