"""Property-based tests: whatever Unicode a user types, tokenizer → predict → trace never raises anything but a
clear InputError, keeps probabilities in [0, 1], reads at most 50 tokens, and gives the same answer twice."""
import numpy as np
import pytest
from conftest import make_bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_core import InputError, load_model, tokenize
from rnn_core.safe_html import token_chips
from rnn_core.trace import trace

texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.lists(st.sampled_from(["good", "not", "фильм", "😀", "<script>", "\u200b", "\x00", "\u202e", "ё", " ", "\n",
                              "'", "-", "&amp;", "שלום", "ﷺ", "\ufe0f", "🏽", "Ⅻ"]), max_size=120).map("".join),
)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    return [load_model(make_bundle(root / cell, cell=cell)) for cell in ("rnn", "lstm", "gru")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts)
def test_any_text(bundles, text):
    tokens = tokenize(text)
    assert all(tok and not tok.isspace() for tok in tokens)
    for b in bundles:
        if not tokens:
            with pytest.raises(InputError):
                trace(b.model, b.vocab, text)
            continue
        tr = trace(b.model, b.vocab, text)
        assert 1 <= len(tr.tokens) <= 50 and tr.truncated == (len(tokens) > 50)
        assert np.all((tr.prefix_p >= 0) & (tr.prefix_p <= 1)) and np.isfinite(tr.h).all()
        again = trace(b.model, b.vocab, text)
        assert again.p == tr.p and again.tokens == tr.tokens
        html = token_chips(tr.tokens, tr.unknown)
        assert "<script" not in html.split("</style>", 1)[1].lower()
