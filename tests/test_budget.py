"""bench/budget.py, run small against a real server on loopback with the tiny test models: model zips go up through
the Train page's uploader at the protocol level (file_urls_request, PUT, rerun with the uploader's state), the page
must say each good one was loaded, and a broken one must count as an error. Memory is what `python -m bench.budget`
reports; only its plausibility is checked here (tiny bundles are too small for their freeing to show in RSS, so
that is left to the benchmark)."""
import asyncio

import pytest

from bench.budget import drive, table


@pytest.fixture
def tiny_models(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))
    # A short grace, so the janitor releases the closed sessions while the scenario still runs.
    return {"RNN_LENS_MODELS": str(models_root), "RNN_LENS_SESSION_GRACE": "1"}


def test_uploads_through_the_protocol_are_loaded_and_a_broken_zip_is_an_error(tiny_models, models_root):
    from bench import APP
    from bench.browser import Server
    from rnn_core.bundle import bundle_zip, load_model

    bundles = [("en-gru", bundle_zip(load_model(models_root / "en-gru"))), ("broken", b"PK\x03\x04 not a zip")]
    server = Server(APP, env=tiny_models).start()
    try:
        server.wait_healthy()
        res = asyncio.run(drive(server.url, server.proc.pid, bundles, sessions=2, do_train=False, do_lab=False,
                                free_wait=5, timeout=90))
    finally:
        server.stop()
    # Both classrooms (2 sessions each) uploaded both files: the good one loaded under the name the page gives an
    # upload named like a shipped model, the broken one refused by the page (its st.error is counted).
    assert res["uploads"] == 8 and res["accepted"] == 4 and res["errors"] == 4
    assert res["loaded"] == [["en-gru-own"], ["en-gru-own"]]
    assert res["uses"] == 2  # and each session's main page answered on its own model, rightly (else an error)
    assert all(e[1] == "broken" and "cannot be used" in e[2] for e in res["error_examples"])
    assert table(res).endswith("FAIL")  # an error fails the target, whatever the memory
    mb = {k[7:]: v for k, v in res.items() if k.startswith("rss_mb_")}
    assert 0 < mb["idle"] < mb["warm"]  # the first visit imports torch and the pages
    assert mb["warm"] <= mb["hwm"] and mb["uploaded"] <= mb["hwm"] + 1 and mb["end"] <= mb["work_peak"] + 1
    assert mb["freed"] > 0 and mb["again"] > 0 and res["wall_s"] < 90


def test_distinct_uploads_are_each_sessions_own(tiny_models, models_root):
    """--distinct: every session uploads renamed copies, so the server can share none of them."""
    from bench import APP
    from bench.browser import Server
    from bench.budget import distinct_copies
    from rnn_core.bundle import bundle_zip, load_model

    bundles = [("en-gru", bundle_zip(load_model(models_root / "en-gru")))]
    own = distinct_copies(bundles, 2)
    assert own[0][0][1] != own[1][0][1]  # two different zips
    server = Server(APP, env=tiny_models).start()
    try:
        server.wait_healthy()
        res = asyncio.run(drive(server.url, server.proc.pid, bundles, sessions=2, do_train=False, do_lab=False,
                                free_wait=3, timeout=90, own=own))
    finally:
        server.stop()
    assert res["errors"] == 0 and res["accepted"] == res["uploads"] == 4 and res["distinct"]
    assert res["loaded"] == [["en-gru-0"], ["en-gru-1"]] and res["uses"] == 2
    assert "a renamed copy for each session" in table(res)
