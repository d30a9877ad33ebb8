"""Hostile files, each built on the fly: the breaks B1-B14 of the attack run (issue "Hold under hostile uploads and
a classroom"). Every one must end in one clear message naming the file, within hard limits, never a traceback."""
import hashlib
import io
import json
import struct
import tracemalloc
import zipfile

import pytest
from conftest import make_bundle

from rnn_core import limits
from rnn_core.bundle import CONFIG, METRICS, bundle_zip, list_bundles, load_model, load_zip
from rnn_core.cli import main
from rnn_core.data import read_labelled_csv
from rnn_core.errors import BundleError, InputError
from rnn_core.schemas import index_from_dict, pca_from_dict
from rnn_core.train import TrainConfig


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    """A valid bundle zip (with PCA and neuron index) and its files by name."""
    b = load_model(make_bundle(tmp_path_factory.mktemp("z") / "zipped", cell="gru", extras=True))
    data = bundle_zip(b)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return data, {i.filename: z.read(i) for i in z.infolist()}


def rezip(files: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for k, v in files.items():
            z.writestr(k, v)
    return buf.getvalue()


def signed(files: dict, edits: dict) -> dict:
    """`files` with some replaced and config.json re-signed for them, as an attacker would do."""
    out = {**files, **{f"zipped/{k}": v for k, v in edits.items()}}
    cfg = json.loads(out["zipped/config.json"])
    for k in edits:
        if k != CONFIG:
            cfg["files"][k] = hashlib.sha256(out[f"zipped/{k}"]).hexdigest()
    out["zipped/config.json"] = json.dumps(cfg).encode()
    return out


def patch_headers(data: bytes, name: str, **fields) -> bytes:
    """Rewrite fields (file_size, flag_bits, compress_type) of entry `name` in its local header and in the central
    directory, leaving its data alone: how a zip lies about itself."""
    buf = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    offsets = {"flag_bits": (6, 8, "<H"), "compress_type": (8, 10, "<H"), "file_size": (22, 24, "<I")}
    for key, value in fields.items():
        local_off, central_off, fmt = offsets[key]
        struct.pack_into(fmt, buf, info.header_offset + local_off, value)
        struct.pack_into(fmt, buf, central + central_off, value)
    return bytes(buf)


def refused(data: bytes, match: str | None = None) -> str:
    with pytest.raises(BundleError, match=match) as e:
        load_zip(data, "my-model.zip")
    msg = str(e.value)
    assert "my-model.zip" in msg and "/tmp" not in msg and "Traceback" not in msg
    return msg


# B1 -----------------------------------------------------------------------------------------------------------
def test_b1_a_lying_header_cannot_inflate_the_server(zipped):
    """vocab.json declared as 100 bytes but inflating to 64 MB: read in chunks against the declared size and the
    caps, so memory stays small (the old loader inflated it all, then hit a CRC error)."""
    _, files = zipped
    bomb = rezip({**files, "zipped/vocab.json": b" " * (64 * 2**20)})
    lying = patch_headers(bomb, "zipped/vocab.json", file_size=100)
    tracemalloc.start()
    try:
        refused(lying)
        refused(bomb, "vocab.json unpacks to more than")  # an honest header over the cap: the stream stops at it
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MB allocated while refusing a zip bomb"


def test_b1_too_many_entries_are_refused_before_zipfile_reads_them(zipped):
    _, files = zipped
    many = {**files, **{f"zipped/junk{i}.txt": b"" for i in range(limits.MAX_ZIP_ENTRIES + 1)}}
    refused(rezip(many), "too many entries")


# B2 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("edit", [{"hidden_dim": 100_000}, {"emb_dim": 10**9}, {"hidden_dim": 12_000},
                                  {"vocab_size": 10**7}, {"max_len": 10**9}])
def test_b2_sizes_are_checked_before_the_model_is_built(zipped, tiny_bundle, edit, capsys):
    _, files = zipped
    cfg = json.loads(files["zipped/config.json"]) | edit
    refused(rezip({**files, "zipped/config.json": json.dumps(cfg).encode()}), "over the limit")
    cfg = json.loads((tiny_bundle / CONFIG).read_text()) | edit
    (tiny_bundle / CONFIG).write_text(json.dumps(cfg))
    with pytest.raises(BundleError, match="config.json is invalid: .* over the limit"):
        load_model(tiny_bundle)
    assert main(["predict", "--model", str(tiny_bundle), "good"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "config.json" in err


# B3 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["encrypted", "deflate64", "unknown method", "bzip2", "corrupt deflate"])
def test_b3_zip_features_we_do_not_write_are_one_clear_error(zipped, how):
    data, files = zipped
    name = "zipped/vocab.json"
    if how == "encrypted":
        bad = patch_headers(data, name, flag_bits=0x1)
    elif how == "deflate64":
        bad = patch_headers(data, name, compress_type=9)
    elif how == "unknown method":
        bad = patch_headers(data, name, compress_type=99)
    elif how == "bzip2":
        bad = rezip(files, zipfile.ZIP_BZIP2)
    else:
        info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
        start = info.header_offset + 30 + len(name) + len(info.extra)
        bad = data[:start] + bytes(b ^ 0x5A for b in data[start:start + 200]) + data[start + 200:]
    refused(bad)


# B4 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [b"[" * 20_000 + b"]" * 20_000, b'{"n": ' + b"9" * 5000 + b"}",
                                     b'{"a": ' * 8_000 + b"1" + b"}" * 8_000], ids=["deep list", "huge int",
                                                                                     "deep object"])
def test_b4_hostile_json_is_damaged_not_a_crash(zipped, tiny_bundle, payload, models_root, tmp_path, monkeypatch,
                                               capsys):
    _, files = zipped
    refused(rezip(signed(files, {METRICS: payload})), "metrics.json is not valid JSON")
    (tiny_bundle / CONFIG).write_bytes(payload)
    with pytest.raises(BundleError, match="config.json is not valid JSON"):
        load_model(tiny_bundle)
    monkeypatch.setenv("RNN_LENS_MODELS", str(tiny_bundle.parent))  # `models` lists a broken one, no traceback
    assert [r for r in list_bundles() if r["name"] == tiny_bundle.name][0]["error"]
    assert main(["models"]) == 0 and "BROKEN" in capsys.readouterr().out


# B5 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("context", [{"word": "x", "left": [1, 2], "right": [], "activation": 0.5},
                                     {"word": "x", "left": [], "right": [None], "activation": 0.5},
                                     {"word": "x", "left": [], "right": [], "activation": True},
                                     {"word": "x", "left": [], "right": [], "activation": 1e309}])
def test_b5_neuron_index_is_type_checked(zipped, context):
    _, files = zipped
    index = json.loads(files["zipped/neurons.json"])
    index["units"][0]["pos"][0] = context
    with pytest.raises(ValueError):
        index_from_dict(json.loads(json.dumps(index)))
    refused(rezip(signed(files, {"neurons.json": json.dumps(index).encode()})), "neurons.json is not a valid")


# B6 -----------------------------------------------------------------------------------------------------------
def test_b6_pca_fitted_on_keeps_only_numbers(zipped):
    _, files = zipped
    pca = json.loads(files["zipped/pca.json"])
    evil = "![t](http://127.0.0.1:8641/pixel.png) **BOLD** [click](https://evil.example/)"
    pca["fitted_on"].update(n_states=evil, n_texts=12, state=evil, seed=True)
    b = load_zip(rezip(signed(files, {"pca.json": json.dumps(pca).encode()})))
    assert b.pca["fitted_on"] == {"n_texts": 12, "cell": "gru"}
    assert pca_from_dict(pca)["fitted_on"] == b.pca["fitted_on"]


# B11 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("card", [{"test_accuracy": "99%"}, {"test_accuracy": [1]}, {"baseline": "x"},
                                  {"test_accuracy": float("nan")}])
def test_b11_models_lists_a_card_of_any_shape(tiny_bundle, monkeypatch, capsys, card):
    from conftest import resign

    (tiny_bundle / METRICS).write_text(json.dumps(card))
    resign(tiny_bundle, METRICS)
    monkeypatch.setenv("RNN_LENS_MODELS", str(tiny_bundle.parent))
    for args in (["models"], ["models", "--markdown"], ["models", "--json"]):
        assert main(args) == 0
        assert "n/a" in capsys.readouterr().out or args[-1] == "--json"


# B12 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("edit", [{"hidden_dim": 100_000}, {"emb_dim": 10**6}, {"max_len": 10**9}, {"clip": -1.0},
                                  {"clip": 0.0}, {"lr_decay": -5.0}, {"lr_decay": 1.5}, {"lr": float("nan")},
                                  {"max_vocab": 10**8}, {"epochs": 10**6}, {"time_limit": -3.0},
                                  {"hidden_dim": 512, "emb_dim": 512, "max_vocab": 50_000}])
def test_b12_train_config_bounds_and_signs(edit):
    with pytest.raises(InputError):
        TrainConfig(**edit).check()


def test_b12_cli_train_refuses_without_a_traceback(tmp_path, capsys):
    for flags in (["--hidden-dim", "100000"], ["--clip", "-1"], ["--lr-decay", "-5"]):
        assert main(["train", "--lang", "en", "--out", str(tmp_path / "m"), *flags]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_shipped_sizes_pass_the_checks():
    from rnn_core.recipes import SHIPPED

    for cfg in SHIPPED.values():
        cfg.check()


# B14 ----------------------------------------------------------------------------------------------------------
def test_b14_no_server_paths_in_upload_errors(zipped):
    _, files = zipped
    msg = refused(rezip(signed(files, {"weights.safetensors": b"not tensors"})), "weights.safetensors")
    assert msg.startswith("my-model.zip/weights.safetensors")


def test_b14_csv_headers_with_control_characters_are_shown_plainly(tmp_path, capsys):
    raw = "te\x1b[31mxt\x07,lab\u202eel\n" + "good,1\n" * 3
    with pytest.raises(InputError) as e:
        read_labelled_csv(raw.encode())
    assert all(ch.isprintable() for ch in str(e.value))
    csv = tmp_path / "x.csv"
    csv.write_text(raw)
    assert main(["evaluate", "--model", "no-such", "--csv", str(csv)]) == 2


def test_b14_csv_from_dev_zero_is_refused_quickly(capsys):
    with pytest.raises(InputError, match="binary"):
        read_labelled_csv("/dev/zero")
    assert main(["train", "--csv", "/dev/zero", "--out", "/nonexistent-dir/x"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_reports_an_unexpected_error_in_one_line(monkeypatch, capsys):
    import rnn_core.bundle
    import rnn_core.cli as cli

    monkeypatch.setattr(rnn_core.bundle, "list_bundles", lambda: 1 / 0)
    assert cli.main(["models"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: unexpected ZeroDivisionError: division by zero"


# Pages: B6, B7, B10, B13 through AppTest ------------------------------------------------------------------------
def upload_model(at, data: bytes, name="evil.zip"):
    at.switch_page("app_pages/train.py").run()
    gen = at.session_state["model_zip_gen"] if "model_zip_gen" in at.session_state else 0
    at.file_uploader(key=f"model_zip_{gen}").upload(name, data, "application/zip").run()
    assert not at.exception
    return at


def test_b6_b10_bundle_strings_are_escaped_on_the_pages(app, zipped):
    _, files = zipped
    pca = json.loads(files["zipped/pca.json"])
    pca["fitted_on"]["n_states"] = "![t](http://127.0.0.1:8641/pixel.png) **BOLD** [click](https://evil.example/)"
    edited = signed(files, {"pca.json": json.dumps(pca).encode()})
    cfg = json.loads(edited["zipped/config.json"])
    cfg["name"] = "a._b_.c"  # a name _NAME allows that would still put *b* in italics as Markdown
    edited["zipped/config.json"] = json.dumps(cfg).encode()
    at = upload_model(app(text="good movie"), rezip(edited))
    assert any(r"a.\_b\_.c" in s.value for s in at.success), [s.value for s in at.success]
    at.switch_page("app_pages/path.py").run()
    at.selectbox(key="my_model").set_value("a._b_.c").run()
    assert not at.exception and at.get("plotly_chart")
    shown = " ".join(c.value for c in at.caption)
    assert "pixel.png" not in shown and "evil.example" not in shown


def test_b10_a_folder_bundle_with_a_markdown_name_shows_its_folder_name(tiny_bundle):
    cfg = json.loads((tiny_bundle / CONFIG).read_text())
    cfg["name"] = "a _b_ c"
    (tiny_bundle / CONFIG).write_text(json.dumps(cfg))
    assert load_model(tiny_bundle).name == tiny_bundle.name


def test_b7_a_session_model_is_traced_once_per_sentence(app, zipped, monkeypatch):
    import app_pages.common as common

    calls = []
    real = common.trace
    monkeypatch.setattr(common, "trace", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = upload_model(app(text="good movie , not boring"), zipped[0], "zipped.zip")
    at.switch_page("app_pages/importance.py").run()
    at.selectbox(key="my_model").set_value("zipped").run()
    n = len(calls)
    assert n >= 1 and not at.exception
    at.segmented_control(key="ui").set_value("RU").run()  # a rerun with the same sentence and model
    assert not at.exception and len(calls) == n


def test_b13_a_very_wide_csv_is_refused_and_parsed_once(app, monkeypatch):
    import rnn_core.data as data

    at = app()
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_source").set_value("upload").run()
    wide = (",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" for _ in range(100_000))).encode()
    at.file_uploader(key="train_csv").upload("wide.csv", wide, "text/csv").run()
    assert not at.exception and any("has 100,000 columns" in e.value and "parsed" not in e.value for e in at.error)
    assert not at.selectbox  # no 100k-option selectboxes
    calls = []
    real = data.read_csv_frame
    monkeypatch.setattr(data, "read_csv_frame", lambda *a, **k: calls.append(1) or real(*a, **k))
    rows = "text,label\n" + "\n".join(f"good film {i},1\nbad film {i},0" for i in range(30))
    at.file_uploader(key="train_csv").upload("ok.csv", rows.encode(), "text/csv").run()
    at.checkbox(key="skip_other").check().run()
    at.checkbox(key="skip_other").uncheck().run()
    assert not at.exception and not at.error
    assert len(calls) == 3  # columns once, then the Dataset once per choice of options (two), never per rerun


def test_a_shipped_bundle_uploads_and_its_zip_is_not_kept(app, monkeypatch):
    """A model downloaded from the app can be uploaded back (a shipped one zips to ~7 MB: once over the 5 MB upload
    limit and the 12 MB session cap); once unpacked, neither Streamlit's file manager nor the uploader's widget
    state holds the zip's bytes (the widget's value kept ~7 MB per upload, also in closed tabs for 2 minutes)."""
    import gc
    import tomllib

    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from rnn_core.bundle import MODELS_DIR, bundle_zip, load_model
    from rnn_core.limits import MAX_SESSION_BYTES

    b = load_model(MODELS_DIR / "en-gru")
    data = bundle_zip(b)
    from pathlib import Path

    cfg = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert len(data) < cfg["server"]["maxUploadSize"] * 2**20 and 2 * b.nbytes <= MAX_SESSION_BYTES
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    removed = []
    real = MemoryUploadedFileManager.remove_file
    monkeypatch.setattr(MemoryUploadedFileManager, "remove_file",
                        lambda self, session_id, file_id: (removed.append(file_id), real(self, session_id, file_id)))
    at = upload_model(app(text="good movie"), data, "en-gru.zip")
    assert not at.error and any("en-gru" in s.value for s in at.success)
    assert len(removed) == 1  # the file manager dropped the bytes
    assert at.file_uploader(key="model_zip_1").value is None  # a fresh uploader took the used one's place
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is UploadedFile]  # no widget state holds the zip
    at.run()  # and the page still says the model is loaded, once
    assert sum("en-gru" in s.value for s in at.success) == 1 and len(removed) == 1
    upload_model(at, data, "again.zip")  # the fresh uploader works too: the same bytes, not unpacked again
    assert not at.error and sum("en-gru" in s.value for s in at.success) == 1 and len(removed) == 2


@pytest.mark.parametrize("page", ["memory", "gates", "lesson", "neurons", "whatif"])
def test_a_session_model_put_away_is_not_kept_alive_by_a_page(app, monkeypatch, tmp_path, page):
    """The linked views and lesson steps run as st.fragment, and Streamlit keeps a fragment (its arguments, and
    the globals of the page that defined it) for the session: handed the Bundle, they kept every session's last
    model in memory after the server put it away (+12 MB per session in bench.budget). They get its name now; the
    page still works once it is unpacked again."""
    import gc
    import weakref

    from conftest import make_bundle

    from app_pages import sessions
    from rnn_core.bundle import bundle_zip

    mine, other = (load_model(make_bundle(tmp_path / n, cell="gru")) for n in ("mine", "other"))
    at = upload_model(app(text="good movie"), bundle_zip(mine), "mine.zip")
    at.switch_page(f"app_pages/{page}.py").run()
    at.selectbox(key="my_model").select("mine").run()
    assert not at.exception and not at.error
    assert any("mine" in c.value for c in at.caption) or page != "memory"
    held = weakref.ref(sessions.models(at.session_state["_rl_session"])["mine"])
    monkeypatch.setattr(sessions, "MAX_SERVER_SESSION_BYTES", 1)  # room for one unpacked model: the newest
    try:
        sessions.add_model(other, "someone-else")
        gc.collect()
        assert held() is None
        at.run()  # unpacked again from its zip
        assert not at.exception and not at.error and at.selectbox(key="my_model").value == "mine"
    finally:
        sessions.release("someone-else")


def _zipped(tmp_path, n: int, prefix: str = "s"):
    from conftest import make_bundle

    from rnn_core.bundle import bundle_zip

    bundles = [load_model(make_bundle(tmp_path / f"{prefix}{i}", hidden=16)) for i in range(n)]
    return bundles, [bundle_zip(b) for b in bundles]


def test_the_server_caps_all_sessions_stored_models_together(monkeypatch, tmp_path):
    from app_pages import sessions

    bundles, zips = _zipped(tmp_path, 3)
    monkeypatch.setattr(sessions, "MAX_SERVER_STORE_BYTES", len(zips[0]) + len(zips[1]) + 1)
    try:
        sessions.add_model(bundles[0], "room-a", zips[0])
        sessions.add_model(bundles[1], "room-b", zips[1])
        with pytest.raises(InputError) as e:  # a third visitor's model would pass the server's store
            sessions.add_model(bundles[2], "room-c", zips[2])
        assert e.value.code == "server_models_full" and "MB" in e.value.message("en")
        assert not sessions.models("room-c") and sessions.stored_bytes() == len(zips[0]) + len(zips[1])
        with pytest.raises(InputError):  # an upload that big is refused before it is unpacked
            sessions.add_upload(zips[2], "c.zip", "room-c")
        sessions.add_upload(zips[0], "a.zip", "room-c")  # bytes the server holds already cost nothing more
        assert list(sessions.models("room-c")) == ["s0"] and sessions.stored_bytes() == len(zips[0]) + len(zips[1])
        sessions.release("room-b")  # someone leaves: there is room again
        assert sessions.add_model(bundles[2], "room-c", zips[2]) == []
    finally:
        for sid in ("room-a", "room-b", "room-c"):
            sessions.release(sid)


def test_a_disk_that_cannot_take_the_zip_is_a_clear_message(monkeypatch, tmp_path):
    from pathlib import Path

    from app_pages import sessions

    bundles, zips = _zipped(tmp_path, 1, "full")

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(InputError) as e:
        sessions.add_upload(zips[0], "full.zip", "room-full")
    assert e.value.code == "server_store_failed" and "No space left on device" in e.value.message("en")
    assert "диск" in e.value.message("ru")
    assert not sessions.models("room-full") and sessions.stored_bytes() == 0 and sessions.server_bytes() == 0


def test_only_the_recently_used_session_models_stay_unpacked(monkeypatch, tmp_path):
    """Memory holds MAX_SERVER_SESSION_BYTES of sessions' models whatever their number; the rest wait as zips and
    come back on use with the same weights."""
    import torch

    from app_pages import sessions

    bundles, zips = _zipped(tmp_path, 4, "u")
    monkeypatch.setattr(sessions, "MAX_SERVER_SESSION_BYTES", 2 * bundles[0].nbytes + 1)
    try:
        for i, (b, z) in enumerate(zip(bundles, zips, strict=True)):
            sessions.add_model(b, f"desk-{i}", z)
            assert sessions.server_bytes() <= 2 * bundles[0].nbytes + 1
        assert sessions.stored_bytes() == sum(map(len, zips))
        again = sessions.models("desk-0")["u0"]  # put away two uploads ago: unpacked again from its zip
        assert again is not bundles[0] and again.name == "u0"
        for (k, v), (k2, v2) in zip(again.model.state_dict().items(), bundles[0].model.state_dict().items(),
                                    strict=True):
            assert k == k2 and torch.equal(v, v2)
        assert again.vocab.itos == bundles[0].vocab.itos
        assert sessions.models("desk-0")["u0"] is again and sessions.server_bytes() <= 2 * bundles[0].nbytes + 1
    finally:
        for i in range(4):
            sessions.release(f"desk-{i}")
    assert sessions.server_bytes() == 0 and sessions.stored_bytes() == 0


def test_one_upload_in_many_sessions_is_kept_once_until_the_last_leaves(tmp_path):
    from app_pages import sessions

    _, zips = _zipped(tmp_path, 1, "shared")
    try:
        first = [sessions.add_upload(zips[0], "class.zip", f"pupil-{i}")[0] for i in range(5)]
        assert all(b is first[0] for b in first) and sessions.stored_bytes() == len(zips[0])
        assert sessions.server_bytes() == first[0].nbytes
        path = next(sessions._store_folder().iterdir())
        for i in range(4):
            sessions.release(f"pupil-{i}")
        assert sessions.models("pupil-4")["shared0"] is first[0] and path.exists()
        sessions.release("pupil-4")
        assert not path.exists() and sessions.stored_bytes() == 0 and sessions.server_bytes() == 0
    finally:
        for i in range(5):
            sessions.release(f"pupil-{i}")


def test_a_csv_over_five_mb_is_refused_on_the_train_page(app):
    big = b"text,label\n" + b"a long enough review line,1\n" * (5 * 2**20 // 27 + 10)
    at = app(text="good movie")
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_source").set_value("upload").run()
    at.file_uploader(key="train_csv").upload("big.csv", big, "text/csv").run()
    assert not at.exception and any("larger than 5 MB" in e.value for e in at.error)
