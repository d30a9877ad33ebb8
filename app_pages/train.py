"""Train your own network in the browser: data, settings, a live run that can be stopped, the result, and the
model as a download (and back as an upload)."""
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from app_pages import sessions
from app_pages.common import accuracy_text, chart, current_ui, session_models, t
from app_pages.jobs import MAX_JOBS, MAX_SECONDS, MAX_WAITING, QUEUE, TrainingJob
from rnn_core import BundleError, InputError, RnnLensError
from rnn_core.bundle import bundle_zip, safe_name
from rnn_core.data import load_en, load_ru, read_csv_frame, read_labelled_csv
from rnn_core.figures.training import confusion_matrix, training_curves
from rnn_core.i18n import format_number
from rnn_core.limits import MAX_CSV_UPLOAD_MB
from rnn_core.model import CELL_NAMES
from rnn_core.recipes import ru_path
from rnn_core.safe_html import md_escape
from rnn_core.train import TrainConfig, check_trainable

ui = current_ui()


@st.cache_resource(show_spinner=False)
def corpus(lang: str):
    return load_en() if lang == "en" else load_ru(ru_path())


def choose_data():
    """The chosen Dataset (or None, having said why) and its language tag."""
    source = st.radio(t("train_data", ui), ["en", "ru", "upload"], horizontal=True, key="train_source",
                      format_func=lambda s: t({"en": "data_en", "ru": "data_ru", "upload": "data_upload"}[s], ui))
    if source == "en":
        try:
            return corpus("en"), "en"
        except InputError:
            st.warning(t("data_en_missing", ui))
            return None, "en"
    if source == "ru":
        try:
            ru_path()  # $RNN_LENS_RU_CSV, set by whoever runs the server
        except InputError:
            st.info(t("data_ru_missing", ui))
            return None, "ru"
        return corpus("ru"), "ru"
    up = st.file_uploader(t("upload_csv", ui), type=["csv"], key="train_csv")
    if up is None:
        return None, "custom"
    try:
        raw = up.getvalue()
        if len(raw) > MAX_CSV_UPLOAD_MB * 2**20:
            raise InputError("csv_too_big", file=md_escape(up.name[:200]), mb=MAX_CSV_UPLOAD_MB)
        cols = _columns(up.file_id, raw)
        if len(cols) < 2:
            raise InputError("need_two_columns", cols=", ".join(map(str, cols)))
        c1, c2, c3 = st.columns([2, 2, 3])
        text_col = c1.selectbox(t("text_col", ui), cols, index=cols.index("text") if "text" in cols else 0)
        label_col = c2.selectbox(t("label_col", ui), cols, index=cols.index("label") if "label" in cols else
                                 min(1, len(cols) - 1))
        skip = c3.checkbox(t("skip_other", ui), key="skip_other")
        ds = _parsed(("ds", up.file_id, text_col, label_col, skip), lambda: read_labelled_csv(
            raw, text_col, label_col, "drop" if skip else "error", {"name": f"uploaded file {up.name}"[:200]}))
        check_trainable(ds, "file")
        return ds, "custom"
    except InputError as e:
        st.error(t("bad_upload", ui, error=md_escape(e.message(ui))))
        return None, "custom"


def _parsed(key: tuple, fn):
    """fn() once per upload and choice of columns, not on every rerun (B13: a wide CSV took 13 s a rerun). Only the
    latest upload's results are kept; an InputError is remembered too."""
    cache = st.session_state.get("_csv_cache")
    if cache is None or cache[0] != key[1]:
        cache = st.session_state["_csv_cache"] = (key[1], {})
    if key not in cache[1]:
        try:
            cache[1][key] = fn()
        except InputError as e:
            cache[1][key] = e
    if isinstance(cache[1][key], InputError):
        raise cache[1][key]
    return cache[1][key]


def _columns(file_id: str, raw: bytes) -> list:
    return _parsed(("cols", file_id), lambda: [str(c) for c in read_csv_frame(raw).columns])


def settings_form(ds, lang, job):
    with st.form("train_settings"):
        st.markdown(f"**{t('settings', ui)}**")
        c1, c2, c3, c4 = st.columns(4)
        cell = c1.segmented_control(t("cell", ui), list(CELL_NAMES.values()), default="LSTM", required=True)
        emb = c2.select_slider(t("emb_dim", ui), [16, 32, 64, 100, 128], value=100)
        hidden = c3.select_slider(t("hidden_dim", ui), [16, 32, 64, 128, 256], value=128)
        lr = c4.select_slider(t("lr", ui), [3e-4, 1e-3, 2e-3, 5e-3, 1e-2], value=2e-3,
                              format_func=lambda v: format_number(v, "g", ui))
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.slider(t("epochs", ui), 1, 30, 8)
        dropout = c2.slider(t("dropout", ui), 0.0, 0.8, 0.5, 0.05)
        clip_on = c3.toggle(t("clip_on", ui), value=True)
        clip = c3.number_input(t("clip", ui), 0.1, 100.0, 1.0, 0.5)
        max_len = c4.slider(t("max_len_label", ui), 5, 100, 50)
        c1, c2 = st.columns(2)
        seed = c1.number_input(t("seed", ui), 0, 2**31 - 1, 13)
        default = f"my-{(cell or 'LSTM').lower()}-{len(session_models()) + 1}"
        name = c2.text_input(t("model_name_label", ui), value=default, max_chars=40)
        busy = job is not None and job.running
        go = st.form_submit_button(t("train_button", ui), type="primary", disabled=ds is None or busy)
    if not go:
        return
    cfg = TrainConfig(cell=(cell or "LSTM").lower(), emb_dim=emb, hidden_dim=hidden, lr=lr, epochs=epochs,
                      dropout=dropout, clip=clip if clip_on else None, max_len=max_len, seed=int(seed))
    try:
        st.session_state["train_job"] = TrainingJob(ds, cfg, safe_name(name, default), lang).start()
    except InputError as e:  # settings out of range, or the server's queue is full
        st.error(md_escape(e.message(ui)))


def live(job):
    """Progress, curves and a Stop button, refreshed every second while the run lasts."""
    s = job.status()
    if s["state"] == "queued":
        st.progress(0.0, text=t("queue_waiting", ui, n=s["position"], running=QUEUE.counts()["running"]))
        st.button(t("stop_button", ui), on_click=job.stop, disabled=s["stopping"])
    elif s["running"]:
        b = s["batch"]
        text = t("stopping", ui) if s["stopping"] else t("training", ui, epoch=b["epoch"], batch=b["batch"],
                                                           n=b["n_batches"], elapsed=s["elapsed"])
        st.progress(s["progress"], text=text)
        st.button(t("stop_button", ui), on_click=job.stop, disabled=s["stopping"])
    if s["epochs"]:
        chart(training_curves(s["epochs"], ui), "train_curves")
    if s["done"] and st.session_state.get("train_shown") is not job:
        st.session_state["train_shown"] = job
        st.rerun()  # leave polling mode: the whole page now shows the result


def result(job):
    if job.error:
        error = job.failure.message(ui) if isinstance(job.failure, RnnLensError) else job.error
        st.error(t("train_failed", ui, error=md_escape(error)))
        return
    if job.bundle is None:
        st.info(t("train_not_started", ui))
        return
    b, m = job.bundle, job.bundle.metrics
    if st.session_state.get("train_kept") is not job:  # once per run: the session's caps may drop an older model
        st.session_state["train_kept"] = job
        _keep(b)
    st.success(t("train_done", ui, seconds=m["train_seconds"], why=t(f"why_{m['stopped']}", ui), best=m["best_epoch"],
                 val=m["val_accuracy"], test=m["test_accuracy"], n=m["split"]["test"]))
    c1, c2 = st.columns([1, 2])
    with c1:
        chart(confusion_matrix(m["test_confusion"], ui), "train_confusion")
    with c2:
        st.markdown(t("model_ready", ui, name=md_escape(b.name)))
        st.download_button(t("download_model", ui), data=lambda: bundle_zip(b), file_name=f"{b.name}.zip",
                           mime="application/zip", on_click="ignore")


def upload_model():
    gen = st.session_state.get("model_zip_gen", 0)
    up = st.file_uploader(t("upload_model", ui), type=["zip"], key=f"model_zip_{gen}")
    if isinstance(up, UploadedFile):
        st.session_state["model_zip_outcome"] = _load_upload(up)
        # Streamlit keeps a widget's value (an UploadedFile: the zip's bytes) for as long as the widget lives, and
        # a closed tab's widgets for server.disconnectedSessionTTL (2 minutes): ~7 MB an upload. A new key retires
        # this uploader, and the next run drops it with its bytes; the browser shows an empty uploader again.
        st.session_state["model_zip_gen"] = gen + 1
        st.rerun()
    # (name, cell, card) of the last model an upload brought: what the message needs, so that a rerun does not unpack
    # a model the server put away just to say it is there
    loaded = st.session_state.get("model_zip_loaded")
    kind, what = st.session_state.get("model_zip_outcome", (None, None))
    if kind == "error":
        st.error(t("bad_upload", ui, error=md_escape(what.message(ui))))
    elif loaded is not None and loaded[0] in session_models():
        if what:
            st.warning(t("models_dropped", ui, names=md_escape(", ".join(what))))
        name, cell, card = loaded
        st.success(t("uploaded_model", ui, name=md_escape(name), cell=cell.upper(), acc=accuracy_text(card, ui)))


def _load_upload(up) -> tuple:
    """("loaded", names of older models dropped to make room) or ("error", the InputError/BundleError)."""
    try:
        b, dropped = sessions.add_upload(up.getvalue(), up.name)
    except (BundleError, InputError) as e:  # a bad bundle, or one over the session's or the server's memory
        # kept for the next run without its traceback: its frames hold the zip and the model just refused
        return "error", e.with_traceback(None)
    finally:
        _forget(up)
    st.session_state["model_zip_loaded"] = (b.name, b.cell, {"test_accuracy": b.metrics.get("test_accuracy")})
    return "loaded", dropped


def _forget(up) -> None:
    """Unpacked (or refused): Streamlit need not keep the zip's bytes for the rest of the session (~7 MB a shipped
    bundle). The manager in memory has remove_file, as Streamlit's own chat input uses; others keep the file."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    mgr = getattr(ctx, "uploaded_file_mgr", None)
    if ctx is not None and hasattr(mgr, "remove_file"):
        mgr.remove_file(session_id=ctx.session_id, file_id=up.file_id)


def _keep(b) -> None:
    """Keep a model in the session (capped in count and bytes); say which older one made room."""
    dropped = sessions.add_model(b)
    if dropped:
        st.warning(t("models_dropped", ui, names=md_escape(", ".join(dropped))))


st.title(t("page_train", ui))
st.markdown(t("train_intro", ui))
st.caption(t("train_fair", ui, seconds=MAX_SECONDS, jobs=MAX_JOBS) + " " +
           t("queue_note", ui, slots=MAX_JOBS, waiting=MAX_WAITING))
job = st.session_state.get("train_job")
dataset, data_lang = choose_data()
if dataset is not None:
    st.caption(t("data_rows", ui, n=len(dataset), pos=sum(dataset.labels) / len(dataset)))
settings_form(dataset, data_lang, job)
job = st.session_state.get("train_job")
if job is not None:
    st.fragment(live, run_every=1.0 if job.running else None)(job)
    if job.done:
        result(job)
st.divider()
upload_model()
