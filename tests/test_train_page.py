"""The training page through AppTest: a tiny run on an uploaded CSV, bad uploads, a bundle round trip."""
import pytest

from app_pages import jobs
from rnn_core.bundle import bundle_zip
from rnn_core.data import Dataset
from rnn_core.i18n import t
from rnn_core.train import TrainConfig

PAGE = "app_pages/train.py"


def good_csv(n=60) -> bytes:
    rows = ["review,sentiment"]
    rows += [f"a good and fun film number {i},positive" for i in range(n)]
    rows += [f"a bad and dull film number {i},negative" for i in range(n)]
    return "\n".join(rows).encode()


@pytest.fixture
def page(app, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_SECONDS", 30)
    at = app()
    at.switch_page(PAGE).run()
    at.radio(key="train_source").set_value("upload").run()
    return at


def upload(at, content: bytes, name="data.csv"):
    at.file_uploader(key="train_csv").upload(name, content, "text/csv").run()
    return at


def test_tiny_run_completes_and_the_model_is_selectable(page):
    at = upload(page, good_csv())
    assert not at.exception and not at.error
    assert at.selectbox[0].value == "review" and at.selectbox[1].value == "sentiment"
    assert any("120 texts" in c.value for c in at.caption)
    at.button[0].click().run()  # Train (the form's submit button)
    job = at.session_state["train_job"]
    assert job.wait(60) and job.error is None
    at.run()
    assert not at.exception
    assert any("held-out test accuracy" in s.value for s in at.success)
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(charts) == 2 and '"validation · loss"' in charts[0]  # curves, then the confusion matrix
    assert [b.proto.label for b in at.get("download_button")] == [t("download_model", "en")]
    name = job.bundle.name
    at.switch_page("app_pages/memory.py").run()
    assert name in at.selectbox(key="my_model").options
    at.selectbox(key="my_model").set_value(name).run()
    assert not at.exception and any(name in c.value for c in at.caption)


@pytest.mark.parametrize("content, message", [
    ("текст,метка\nхорошо,1\n".encode("cp1251"), "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "binary"),
    (b"just one column\nhello\n", "only: just one column"),
    ("text,label\n" + "\n".join(f"good {i},1" for i in range(40)), "only one class"),
    ("text,label\n" + "\n".join(f"t {i},{i % 2}" for i in range(8)), "at least 20"),
    ("text,label\ngood,maybe\nbad,0\n", "Unknown label value"),
    ("text,label\n\"broken,1\n", "could not be parsed"),
    (b"", "empty"),
])
def test_bad_uploads_get_a_clear_message(page, content, message):
    at = upload(page, content if isinstance(content, bytes) else content.encode())
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert at.button[0].proto.disabled  # nothing to train on: Train is off


def test_bundle_round_trip_through_upload(page):
    ds = Dataset([f"good {i}" for i in range(30)] + [f"bad {i}" for i in range(30)], [1] * 30 + [0] * 30)
    job = jobs.TrainingJob(ds, TrainConfig(cell="rnn", emb_dim=8, hidden_dim=8, epochs=2, min_count=1), "roundtrip")
    job.start().wait(60)
    at = page
    at.file_uploader(key="model_zip_0").upload("roundtrip.zip", bundle_zip(job.bundle), "application/zip").run()
    assert any("roundtrip" in s.value for s in at.success)
    at.switch_page("app_pages/memory.py").run()
    assert "roundtrip" in at.selectbox(key="my_model").options


def test_a_bad_bundle_upload_is_refused(page):
    at = page
    at.file_uploader(key="model_zip_0").upload("evil.zip", b"PK\x03\x04garbage", "application/zip").run()
    assert not at.exception and any("not a .zip" in e.value for e in at.error)


def test_csv_text_in_an_error_is_shown_not_rendered(page):
    """A label value from the file lands in the error message; as Markdown it must not become an image request."""
    at = upload(page, b"text,label\ngood,![x](http://127.0.0.1:9/x.png)\nbad,0\n")
    errors = [e.value for e in at.error]
    assert any("Unknown label value" in e for e in errors), errors
    assert not any("![x](" in e for e in errors) and any(r"\!\[x\]\(http" in e for e in errors), errors
