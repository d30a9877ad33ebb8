"""What the shipped recipes add to the seed: pretrained vectors (rnn_core/pretrained.py) and counterfactual texts
(rnn_core/augment.py). The vector packages are dev dependencies (requirements-vectors.txt, installed by
scripts/test.sh), read at training time only."""
import numpy as np
import pytest
import torch

from rnn_core import augment, pretrained
from rnn_core.behaviour import load_suite
from rnn_core.model import SentimentRNN
from rnn_core.text import Vocab, tokenize


def test_extend_vocab_keeps_training_ids_and_adds_frequent_words():
    base = Vocab.build(["the film is good", "the film is bad"], min_count=1)
    ext = pretrained.extend_vocab(base, "en", 200)
    assert ext.itos[:len(base)] == base.itos and len(ext) == 200 and len(set(ext.itos)) == 200
    assert {"of", "and", "."} <= set(ext.itos)  # GloVe's most frequent tokens come first
    ru = pretrained.extend_vocab(Vocab(["<pad>", "<unk>"], lemmatize=True), "ru", 3000)
    assert ru.lemmatize and {"хороший", "фильм"} <= set(ru.itos)
    assert all(w == ru.key(w) or w in ("<pad>", "<unk>") for w in ru.itos[:200])  # lemmas, as lookups use


def test_embedding_init_writes_frozen_vectors_and_zeroes_unseen_rows():
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "qzxqzx", "film"])
    model = SentimentRNN(len(vocab), "gru", 100, 8)
    rows, found = pretrained.vectors_for(vocab, "en")
    assert found.tolist() == [False, False, True, True, False, True]
    assert rows[found].std() == pytest.approx(pretrained.TARGET_STD, rel=1e-5)
    with torch.no_grad():
        pretrained.embedding_init("en", seen={"good", "bad", "qzxqzx"})(model, vocab)
    w = model.embedding.weight
    assert torch.allclose(w[2, :50], torch.from_numpy(rows[2])) and w[5, 50:].abs().sum() == 0  # unseen: zeros
    before = w.detach().clone()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    logits = model(torch.tensor([[2, 3, 4, 5]]), torch.tensor([4]))
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones(1)).backward()
    opt.step()
    moved = (w.detach() - before).abs() > 0
    assert not moved[[2, 3, 5], :50].any()  # pretrained dimensions stay fixed
    assert moved[4, :50].any() and moved[2, 50:].any()  # a word without a vector, and the free dimensions, train


def test_pca_is_deterministic_and_sign_fixed():
    x = np.random.default_rng(0).normal(size=(40, 10)).astype(np.float32)
    a, b = pretrained.pca(x, 3), pretrained.pca(x[::-1].copy(), 3)[::-1]
    assert np.allclose(a, b, atol=1e-5)
    assert np.allclose(np.abs(np.corrcoef(a.T)), np.eye(3), atol=1e-5)  # uncorrelated components


def test_negation_edit_flips_the_label():
    texts = ["the plot is clever , the cast is fresh", "the ending is dull", "it isn't funny", "a clever film"] * 3
    labels = [1, 0, 0, 1] * 3
    vocab = Vocab.build(texts, min_count=1)
    out, ys = augment.counterfactuals(texts, labels, vocab, "en", clauses=False)
    pairs = dict(zip(out, ys))
    assert pairs["the plot is not clever , the cast is not fresh"] == 0
    assert pairs["the ending is not dull"] == 1
    assert pairs["it is funny"] == 1
    assert "not a clever film" not in pairs  # no copula before it: no safe sentence edit


def test_clause_pairs_are_balanced_minimal_pairs():
    texts = ["the plot is clever , says the critic", "the cast is good", "the ending is dull"]
    vocab = Vocab.build(texts, min_count=1)
    out, ys = augment.clause_pairs(texts, vocab, augment.SEED["en"], "en")
    pairs = list(zip(out, ys))
    assert ("the plot is clever", 1) in pairs and ("the plot is not clever", 0) in pairs
    assert ("the ending is dull", 0) in pairs and ("the ending is not dull", 1) in pairs
    # one negative clause against two positive ones: it is repeated, so "not" is as often positive as negative
    neg_word = [t for t, y in pairs if t.split()[-2:-1] == ["not"] and y == 1]
    pos_word = [t for t, y in pairs if t.split()[-2:-1] == ["not"] and y == 0]
    assert len(neg_word) == len(pos_word) == 2


def test_russian_negation_goes_before_adjectives_only():
    texts = ["сюжет скучный", "фильм хороший и добрый", "хороший день"]
    vocab = Vocab.build(texts, min_count=1, lemmatize=True)
    out, ys = augment.clause_pairs(texts, vocab, augment.SEED["ru"], "ru")
    assert dict(zip(out, ys))["сюжет не скучный"] == 1 and dict(zip(out, ys))["сюжет скучный"] == 0


def test_augmented_texts_never_include_a_suite_sentence():
    suite = [t for t, y, cap in load_suite("en") if cap == "negation"]
    texts = ["the story is interesting", "the story is dull"] * 2  # its clause pair is a suite sentence
    assert "the story is not interesting" in {" ".join(tokenize(t)) for t in suite}
    out, _ = augment.counterfactuals(texts, [1, 0, 1, 0], Vocab.build(texts, min_count=1), "en")
    assert "the story is not interesting" not in out and "the story is interesting" in out


def test_contrast_pairs_take_the_label_of_the_last_clause():
    texts = ["a lovely film", "a dull film", "great fun", "so boring"]
    out, ys = augment.counterfactuals(texts, [1, 0, 1, 0], Vocab.build(texts, min_count=1), "en", n_contrast=40,
                                      clauses=False)
    joined = list(zip(out, ys))[-40:]
    for text, y in joined:
        last = text.split(", ")[-1].replace("but ", "")
        assert y == {"a lovely film": 1, "great fun": 1, "a dull film": 0, "so boring": 0}[last]
