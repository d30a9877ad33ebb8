"""Background training for the app: caps on time and threads, Stop keeps the best weights, bundles as .zip."""
import io
import json
import pickle
import time
import zipfile

import pytest
import torch
from conftest import Evil

from app_pages import jobs
from rnn_core.bundle import bundle_zip, load_model, load_zip
from rnn_core.data import Dataset
from rnn_core.errors import BundleError, InputError
from rnn_core.trace import trace
from rnn_core.train import TrainConfig


def separable(n=200):
    pos = [f"good great {i} fine" for i in range(n // 2)]
    neg = [f"bad awful {i} dull" for i in range(n // 2)]
    return Dataset(pos + neg, [1] * len(pos) + [0] * len(neg), {"name": "synthetic"})


SMALL = TrainConfig(cell="gru", emb_dim=8, hidden_dim=8, epochs=8, batch_size=16, lr=0.02, min_count=1, seed=1)


def test_job_trains_with_one_thread_and_reports_progress(monkeypatch):
    seen = []
    job = jobs.TrainingJob(separable(), SMALL, "t1")
    original = job.progress
    monkeypatch.setattr(job, "progress", lambda ev: (seen.append(torch.get_num_threads()), original(ev)))
    job.start().wait(60)
    assert job.done and job.error is None and job.bundle is not None
    assert seen and set(seen) == {1}
    s = job.status()
    assert s["progress"] == 1.0 and len(s["epochs"]) == job.bundle.metrics["epochs_run"] >= 1
    assert job.bundle.metrics["test_accuracy"] > 0.9
    assert set(job.bundle.extras) == {"pca.json", "neurons.json"}  # the memory-path and neuron pages work on it


def test_time_cap_is_enforced(monkeypatch):
    monkeypatch.setattr(jobs, "MAX_SECONDS", 0.5)
    cfg = TrainConfig(cell="lstm", emb_dim=16, hidden_dim=32, epochs=10_000, batch_size=4, min_count=1,
                      patience=10_000, time_limit=999)
    job = jobs.TrainingJob(separable(400), cfg, "t2")
    assert job.cfg.time_limit == 0.5  # a user's own limit cannot exceed the server's
    t0 = time.perf_counter()
    job.start().wait(60)
    assert time.perf_counter() - t0 < 15
    assert job.bundle.metrics["stopped"] == "time_limit"


def test_stop_keeps_the_best_weights():
    cfg = TrainConfig(cell="rnn", emb_dim=8, hidden_dim=8, epochs=10_000, batch_size=4, min_count=1,
                      patience=10_000)
    job = jobs.TrainingJob(separable(400), cfg, "t3").start()
    while not job.status()["epochs"]:
        time.sleep(0.05)
    job.stop()
    job.wait(60)
    m = job.bundle.metrics
    assert m["stopped"] == "user" and m["best_epoch"] >= 1
    assert m["val_accuracy"] == max(e["val_accuracy"] for e in m["history"])


def test_one_queue_for_the_server_shows_places_and_refuses_when_full():
    queue = jobs.HeavyQueue(slots=1, max_waiting=1)
    cfg = TrainConfig(cell="rnn", emb_dim=8, hidden_dim=8, epochs=10_000, batch_size=4, min_count=1,
                      patience=10_000)
    first = jobs.TrainingJob(separable(), cfg, "a", queue=queue).start()
    second = jobs.TrainingJob(separable(), SMALL, "b", queue=queue).start()
    assert first.status()["state"] == "running" and first.status()["position"] == 0
    assert second.status()["state"] == "queued" and second.status()["position"] == 1
    with pytest.raises(jobs.QueueFull, match="busy"):
        jobs.TrainingJob(separable(), SMALL, "c", queue=queue).start()
    lab = jobs.Job(lambda progress, should_stop: 42, "lab", queue=queue)  # lab experiments share the queue
    with pytest.raises(jobs.QueueFull):
        lab.start()
    first.stop()
    assert first.wait(60) and second.wait(60)  # the one waiting runs as soon as the slot is free
    assert second.error is None and second.bundle is not None
    assert lab.start().wait(10) and lab.result == 42 and queue.counts()["running"] == 0


def test_a_queued_job_that_is_stopped_leaves_the_queue():
    queue = jobs.HeavyQueue(slots=1, max_waiting=2)
    gate = jobs.threading.Event()
    busy = jobs.Job(lambda progress, should_stop: gate.wait(30), "busy", queue=queue).start()
    waiting = jobs.Job(lambda progress, should_stop: 1 / 0, "never", queue=queue).start()
    waiting.stop()
    assert waiting.wait(5) and waiting.result is None and waiting.error is None
    assert queue.position(waiting) is None
    gate.set()
    assert busy.wait(10) and busy.result is True


def test_jobs_stop_and_models_go_when_their_session_ends(monkeypatch):
    from app_pages import sessions

    monkeypatch.setattr(sessions, "GRACE_SECONDS", 10)
    queue = jobs.HeavyQueue(slots=2, max_waiting=0)
    work = jobs.Job(lambda progress, should_stop: [time.sleep(0.02) for _ in range(3000) if not should_stop()],
                    "exp", session_id="tab-1", queue=queue).start()
    sessions.add_model(load_model(make_bundle_dir()), "tab-1")
    other = jobs.Job(lambda progress, should_stop: "fine", "other", session_id="tab-2", queue=queue).start()
    connected = {"tab-1": False, "tab-2": True}
    connected = lambda key, known=connected: known.get(key, True)  # noqa: E731 -- other tests' sessions stay
    assert sessions.sweep(connected, now=1000.0) == []  # just disconnected: within the grace (a reload)
    assert work.running and sessions.models("tab-1")
    assert sessions.sweep(connected, now=1011.0) == ["tab-1"]
    assert work.wait(10) and not sessions.models("tab-1") and other.wait(10) and other.result == "fine"


def test_session_models_are_capped_in_count_and_bytes(monkeypatch, tmp_path):
    from conftest import make_bundle

    from app_pages import sessions

    bundles = [load_model(make_bundle(tmp_path / f"m{i}", hidden=16)) for i in range(5)]
    sid = "capped"
    for b in bundles[:sessions.MAX_SESSION_MODELS]:
        assert sessions.add_model(b, sid) == []
    assert sessions.add_model(bundles[-1], sid) == ["m0"]  # the oldest goes first
    assert list(sessions.models(sid)) == ["m1", "m2", "m4"]
    monkeypatch.setattr(sessions, "MAX_SESSION_BYTES", bundles[0].nbytes * 2 + 1)
    assert sessions.add_model(bundles[0], sid) == ["m1", "m2"]  # two fit in the byte cap
    monkeypatch.setattr(sessions, "MAX_SESSION_BYTES", bundles[0].nbytes // 2)
    with pytest.raises(InputError, match="MB"):
        sessions.add_model(bundles[3], sid)
    sessions.release(sid)


def make_bundle_dir():
    import tempfile
    from pathlib import Path

    from conftest import make_bundle

    return make_bundle(Path(tempfile.mkdtemp()) / "sess")


def test_one_class_or_too_few_rows_are_refused():
    with pytest.raises(InputError, match="only one class"):
        jobs.TrainingJob(Dataset([f"good {i}" for i in range(50)], [1] * 50), SMALL, "x")
    with pytest.raises(InputError, match="at least 20"):
        jobs.TrainingJob(Dataset(["good", "bad"], [1, 0]), SMALL, "x")


@pytest.fixture(scope="module")
def trained():
    job = jobs.TrainingJob(separable(), SMALL, "zipped").start()
    job.wait(60)
    return job.bundle


def test_zip_round_trip(trained, tmp_path):
    data = bundle_zip(trained)
    back = load_zip(data)
    assert back.name == "zipped" and back.cell == "gru" and back.extras == trained.extras
    assert trace(back.model, back.vocab, "good great").p == pytest.approx(trace(trained.model, trained.vocab,
                                                                                "good great").p, abs=1e-6)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)  # the CLI and load_model read the unpacked folder
    assert load_model(tmp_path / "zipped").metrics["test_accuracy"] == trained.metrics["test_accuracy"]


def _rezip(data: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    files = {i.filename: src.read(i) for i in src.infolist()}
    edit(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in files.items():
            z.writestr(k, v)
    return buf.getvalue()


def test_bad_zips_are_refused(trained, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = bundle_zip(trained)
    with pytest.raises(BundleError, match="not a .zip"):
        load_zip(b"PK\x03\x04 not really")
    with pytest.raises(BundleError, match="vocab.json missing"):
        load_zip(_rezip(data, lambda f: f.pop("zipped/vocab.json")))

    def swap_in_pickle(f):
        f["zipped/weights.safetensors"] = pickle.dumps(Evil())
        cfg = json.loads(f["zipped/config.json"])
        import hashlib

        cfg["files"]["weights.safetensors"] = hashlib.sha256(f["zipped/weights.safetensors"]).hexdigest()
        f["zipped/config.json"] = json.dumps(cfg).encode()

    with pytest.raises(BundleError, match="weights.safetensors"):
        load_zip(_rezip(data, swap_in_pickle))
    assert not (tmp_path / "PWNED").exists()

    def traversal(f):
        f["../../evil/config.json"] = f.pop("zipped/config.json")

    b = load_zip(_rezip(data, traversal))  # names are reduced to the four known files; nothing lands outside
    assert b.cell == "gru" and not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize("name, expected", [("[x](javascript:alert(1))", "x--javascript-alert-1"),
                                            (["not", "a", "string"], "uploaded"), ("модель", "uploaded"),
                                            ("en-lstm", "en-lstm-own")])
def test_an_uploaded_model_gets_a_safe_name(trained, models_root, monkeypatch, name, expected):
    """The name comes from the zip's config.json, i.e. from whoever made the zip: it must not break the page (a
    list), put Markdown on it, or take a shipped model's place in the session."""
    monkeypatch.setenv("RNN_LENS_MODELS", str(models_root))  # shipped names here: en-rnn ... ru-gru

    def rename(f):
        cfg = json.loads(f["zipped/config.json"])
        cfg["name"] = name
        f["zipped/config.json"] = json.dumps(cfg).encode()

    assert load_zip(_rezip(bundle_zip(trained), rename)).name == expected


def test_the_gradient_lab_shares_the_queue_and_says_when_it_is_full(app, monkeypatch):
    """Lab experiments take a slot of the same server-wide queue as trainings; a full queue is a message."""
    monkeypatch.setattr(jobs, "QUEUE", jobs.HeavyQueue(slots=1, max_waiting=0))
    gate = jobs.threading.Event()
    busy = jobs.Job(lambda progress, should_stop: gate.wait(60), "someone else's training").start()
    try:
        at = app()
        at.switch_page("app_pages/gradients.py").run()
        at.button[1].click().run()  # the exploding-gradient experiment
        assert not at.exception and any("busy" in e.value for e in at.error), [e.value for e in at.error]
        assert len(at.get("plotly_chart")) == 5  # no experiment ran: the sentence's three charts and the shipped sweep
    finally:
        gate.set()
        busy.wait(10)
    at.button[1].click().run()  # the slot is free again
    assert not at.exception and not at.error and any("With clipping at" in m.value for m in at.markdown)
