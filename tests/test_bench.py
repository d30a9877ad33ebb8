"""The benchmark's measuring helpers on tiny models, and the shape of its --json output. No server, no browser, and
no speed target here: speed is what `python -m bench` reports, never what a unit test asserts."""
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import REQUIRED_KEYS, SENTENCE_50, SHIPPED, make_seed_models, measure_core, measure_figure, pct
from bench.browser import expected, grade, load_texts
from bench.run import main, passed, table
from rnn_core import load_model, tokenize
from rnn_core.text import detect_lang


@pytest.fixture
def tiny(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))
    return {c: load_model(f"en-{c}") for c in ("rnn", "lstm", "gru")}


def test_sentence_has_50_tokens():
    assert len(tokenize(SENTENCE_50)) == 50


def test_measure_core(tiny):
    res = measure_core(tiny, "good movie , not boring", runs=5, warmup=1)
    for cell in tiny:
        trace_ms, fused_ms = res["trace_ms_p50"][cell], res["fused_ms_p50"][cell]
        assert trace_ms > 0 and fused_ms > 0
        assert res["trace_fused_ratio"][cell] == pytest.approx(trace_ms / fused_ms)
        assert res["tokens"][cell] == 5


def test_measure_figure(tiny):
    res = measure_figure(tiny, "good movie , not boring")
    for cell in tiny:
        assert res["figure_bytes"][cell] > res["raw_matrix_bytes"][cell] > 0
        assert res["figure_raw_ratio"][cell] == pytest.approx(res["figure_bytes"][cell] / res["raw_matrix_bytes"][cell])
    assert res["raw_matrix_bytes"]["lstm"] > res["raw_matrix_bytes"]["rnn"]  # h and c


def test_seed_models_have_the_shipped_names(tmp_path, monkeypatch):
    make_seed_models(tmp_path, vocab_size=300, emb=4, hidden=8)
    monkeypatch.setenv("RNN_LENS_MODELS", str(tmp_path))
    for name in SHIPPED:
        b = load_model(name)
        assert (b.lang, b.cell, len(b.vocab), b.model.hidden_dim) == (name[:2], name[3:], 300, 8)


def test_percentiles_and_pass():
    assert pct([1, 2, 3, 4], 50) == 2.5 and pct(range(101), 95) == 95
    p = passed({"trace_fused_ratio": {"rnn": 3.0, "lstm": 25.0}, "rss_mb": 420.0})
    assert p["trace_fused_ratio"] is False and p["rss_mb"] is True and p["rerun_ms_p95"] is None


def test_load_texts_differ_and_alternate_languages():
    a, b = load_texts(10, 0), load_texts(10, 1)
    assert len(set(a + b)) == 20
    assert [detect_lang(t) for t in a] == ["en", "ru"] * 5
    assert len(set(load_texts(30, 0))) == 30  # more sessions than sentences: still all different


def test_grading_uses_rnn_core_prediction(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))
    want = {t: expected(t) for t in ("good movie", "это отличный фильм")}
    assert want["это отличный фильм"]["model"] == "ru-lstm"
    shown = [{"text": t, "seconds": 1.0 + i, "label": w["label"], "p": f"{w['probability']:.3f}"}
             for i, (t, w) in enumerate(want.items())]
    g = grade(shown, want)
    assert g["all_correct"] and g["result_s_p50"] == 1.5
    shown[0]["p"] = "0.000" if shown[0]["p"] != "0.000" else "1.000"
    assert not grade(shown, want)["all_correct"]


def test_json_output_has_the_required_keys(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))  # tiny models stand in for the shipped ones
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--json", "--runs", "3", "--skip", "rerun", "cold", "rss"])
    assert code == 0
    res = json.loads(out.getvalue())  # exactly one JSON object
    skipped = ("rerun_ms_p50", "rerun_ms_p95", "figure_bytes_app", "raw_matrix_bytes_app", "figure_raw_ratio_app",
               "cold_start_s", "cold_start_minimal_s", "cold_start_ratio", "rss_mb")
    assert all(res[k] is not None for k in REQUIRED_KEYS if k not in skipped)  # every measured part filled its keys
    assert res["models"]["source"] == "shipped" and set(res["models"]["bundles"]) == set(SHIPPED)
    assert res["machine"]["cores"] >= 1 and len(res["machine"]["loadavg"]) == 3
    assert all(res["trace_ms_p50"][c] > 0 for c in ("rnn", "lstm", "gru"))
    assert res["rerun_ms_p95"] is None and res["cold_start_s"] is None and res["rss_mb"] is None  # skipped
    assert res["passed"]["rerun_ms_p95"] is None and isinstance(res["passed"]["figure_raw_ratio"], bool)
    assert "trace / fused (lstm)" in table(res)


def test_rerun_through_apptest(models_root, monkeypatch):
    from bench.apptest import measure_rerun

    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))
    res = measure_rerun("good movie , not boring", runs=2, warmup=1)
    assert res["app_model"] == "en-lstm" and len(res["rerun_ms"]) == 2
    assert res["rerun_ms_p95"] >= res["rerun_ms_p50"] > 0
    assert res["figure_bytes_app"] > res["raw_matrix_bytes_app"] > 0


def test_importing_the_bench_does_not_import_streamlit_or_playwright():
    code = ("import sys, bench, bench.run, bench.browser, bench.apptest; "
            "print(any(m.split('.')[0] in ('streamlit', 'playwright') for m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_load_table_renders_partial_results():
    ld = {"sessions": 10, "timed_out": True, "rss_mb_before": 70.0,
          "alone": {"all_correct": True, "result_s_p50": 1.0, "result_s_p95": 2.0},
          "cpu": {"alone": {"wall_s": 5, "cpu_s_server": 1, "cpu_s_bench_and_browser": 3, "cpu_s_others": 5,
                            "cpu_capacity_s": 10}}}
    out = table({"load": ld})
    assert "load (alone): all results correct" in out and "not reached" in out  # the training phase never ran
    assert "timed out" in out and "FAIL" in out
