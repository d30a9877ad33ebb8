"""The protocol-level load client (bench/load.py) and the replica recipe (bench/replicas.py), run small against real
servers on loopback with the tiny test models: the client must read real answers and catch a wrong one, and the
proxy must keep a session on one replica. Speed is what `python -m bench.load` reports, never asserted here."""
import asyncio
import shutil

import pytest

from bench.load import Answer, User, drive, grade, sentence


@pytest.fixture
def tiny_models(models_root, monkeypatch):
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))  # the server's models and the expected answers agree
    return {"RNN_LENS_MODELS": str(models_root)}


def test_sentences_alternate_languages_and_never_repeat():
    from rnn_core import detect_lang

    texts = [sentence(u, s) for u in range(10) for s in range(6)]
    assert len(set(texts)) == len(texts)
    assert {detect_lang(sentence(0, 0)), detect_lang(sentence(0, 1))} == {"en", "ru"}


def test_the_client_drives_a_real_server_and_checks_every_answer(tiny_models):
    from bench import APP
    from bench.browser import Server

    server = Server(APP, env=tiny_models).start()
    try:
        server.wait_healthy()
        res = asyncio.run(drive(server.url, [server.proc.pid], users=3, steps=4, think=0.05, ramp=0.05, seed=0,
                                timeout=120))
    finally:
        server.stop()
    assert res["errors"] == 0, res["wrong"]
    assert res["interactions"] == 12 and res["opens"] == 3
    assert res["server_cpu_s"] > 0 and res["rss_mb"] > res["rss_mb_idle"]


def test_a_wrong_answer_is_counted(tiny_models):
    u = User(0)
    u.log = [("type", "good movie", "LSTM", Answer(0.1, label="positive", p="0.999")),
             ("type", "good movie", "GRU", Answer(0.1, error="boom"))]
    res = grade([u])
    assert res["errors"] == 2


@pytest.mark.skipif(not (shutil.which("nginx") or shutil.which("/usr/sbin/nginx")),
                    reason="nginx is installed by scripts/test.sh (Debian package); the recipe needs it")
def test_two_replicas_behind_nginx_are_sticky_and_answer_correctly(tiny_models):
    from bench.browser import LOOPBACK
    from bench.replicas import cluster

    with cluster(2, env=tiny_models) as (url, replicas):
        def replica(cookie):
            req = __import__("urllib.request").request.Request(url + "_stcore/health",
                                                                headers={"Cookie": f"rnnlens={cookie}"})
            with LOOPBACK.open(req, timeout=10) as r:
                return r.headers["X-RNN-Lens-Replica"]

        seen = {c: {replica(c) for _ in range(4)} for c in (f"user{i}" for i in range(12))}
        assert all(len(v) == 1 for v in seen.values())  # one cookie, one replica
        assert len(set().union(*seen.values())) == 2  # and the cookies spread over both
        with LOOPBACK.open(url, timeout=10) as r:  # a first visit gets its cookie
            assert "rnnlens=" in r.headers["Set-Cookie"]
        res = asyncio.run(drive(url, [r.proc.pid for r in replicas], users=4, steps=2, think=0.05, ramp=0.05, seed=0,
                                timeout=120))
    assert res["errors"] == 0, res["wrong"]
    assert res["interactions"] == 8


def test_a_russian_word_looked_up_by_its_lemma_shows_its_tooltip(monkeypatch):
    """Found by the load test: a word whose lookup key (its lemma, in the shipped Russian models) differs from it
    crashed the main page, because the tooltip passed `key=` to t(), whose own first parameter is `key`."""
    from streamlit.testing.v1 import AppTest

    from bench import APP

    monkeypatch.delenv("RNN_LENS_MODELS", raising=False)  # the shipped models: they look Russian words up by lemma
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["text"], at.query_params["cell"] = "мне очень понравилось", "GRU"
    at.run()
    at.switch_page("app_pages/memory.py").run()  # the main page (the app opens on the lesson)
    assert not at.exception
    chips = "".join(e.proto.body for e in at.get("html"))
    assert "looks up “понравиться”" in chips
