"""No language leaks: every page in the Russian UI shows no Latin-script word outside a short allowlist, and in the
English UI no Cyrillic outside the Russian example sentences. Read from what AppTest renders: markdown, captions,
titles, widget labels/help/options, metrics, tabs, alerts, table headers and cells, and the figures' JSON text
(titles, axis titles, legend names, hover and text templates, annotations, buttons)."""
import json
import re

import pytest
from google.protobuf.json_format import MessageToDict

from rnn_core import examples
from rnn_core.i18n import t

PAGES = ["memory", "gates", "importance", "path", "neurons", "gradients", "train"]
MEMORY_TABS = ["tab_memory", "tab_compare", "tab_how", "tab_download"]
RU_SENTENCE = "Фильм не очень хороший, но актёры отличные!"

# Latin words a Russian reader expects as they are: names of architectures, formats and libraries, the language codes
# of the switches, and the symbols of the equations (h_t, W_hh, tanh, ...). Single letters (x, L, P in P(+), e in a
# number's exponent) are maths and pass on their own.
LATIN_OK = {
    "RNN", "LSTM", "GRU", "PCA", "CSV", "JSON", "HTML", "UTF", "zip", "EN", "RU", "Captum", "Rotten", "Tomatoes",
    "RuSentiTweet", "tanh", "w_i", "h_t", "x_t", "c_t", "f_t", "i_t", "o_t", "g_t", "n_t", "r_t", "z_t", "W_hh", "W_ih",
    "h_", "c_", "t", "max_len", "sigmoid", "b_ih", "b_hh",
    # the gradient lab: the libraries and optimisers it names, and its symbols (∂h_T/∂h_t, diag(tanh′(a_k))·W_hh)
    "PyTorch", "Adam", "SGD", "h_T", "h_k", "a_k", "diag",
}
# Cyrillic in the English UI: the Russian examples it offers, and the letters ё/е named in the tokens caption.
CYRILLIC_OK = {"ё", "е"}

_STRIP = [
    re.compile(r"`[^`]*`"),  # inline code: commands, file and column names
    re.compile(r"%\{[^}]*\}"),  # Plotly template fields: %{y:.3f}
    re.compile(r"<[^>]*>"),  # Plotly's own tags: <br>, <extra></extra>
    re.compile(r":[a-z]+\["),  # Streamlit colour directives :green[...]
    re.compile(r"⟨\w+⟩"),  # the special tokens ⟨unk⟩, ⟨pad⟩
    re.compile(r"\b(?:en|ru|my)-(?:rnn|lstm|gru)(?:-\d+)?\b"),  # model names (shipped; a trained one's default)
]
_LATIN = re.compile(r"[A-Za-z][A-Za-z_]*")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]+")
_TEXT_FIELDS = {"body", "label", "help", "placeholder", "content", "delta", "caption", "options"}
_SKIP_TYPES = {"html", "code", "text_area", "text_input"}  # user text, token chips, shell commands


def _walk(node):
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child)


def _strings(value, key=""):
    if isinstance(value, str):
        if key in _TEXT_FIELDS:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


_FIG_TEXT = {"name", "hovertemplate", "texttemplate", "prefix"}
_FIG_SKIP = {"ticktext", "text", "customdata", "hovertext", "steps", "args", "colorscale", "frames"}


def _figure_strings(value, key=""):
    """Text of a Plotly figure that comes from us: titles, annotations, names, templates, button labels (not the
    sentence's tokens: ticktext, text, hovertext, slider steps)."""
    if isinstance(value, str):
        if key in _FIG_TEXT or key in ("title", "label"):
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k == "text" and isinstance(v, str) and key in ("title", "annotations"):
                yield v
            elif k not in _FIG_SKIP:
                yield from _figure_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _figure_strings(v, key)


def rendered_text(at) -> list[str]:
    """Every piece of UI text the run shows."""
    out = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is None or kind in _SKIP_TYPES:
            continue
        if kind == "plotly_chart":
            spec = json.loads(proto.spec)
            out += list(_figure_strings({"layout": spec.get("layout", {}), "data": spec.get("data", [])}))
            for trace in spec.get("data", []):  # the confusion matrix's class labels
                if trace.get("type") == "heatmap":
                    out += [v for v in trace.get("x", []) + trace.get("y", []) if isinstance(v, str)]
            continue
        if kind == "arrow_data_frame":
            frame = node.value
            out += [str(c) for c in frame.columns]
            continue  # cells are training contexts (data, any language) and numbers checked below
        out += list(_strings(MessageToDict(proto)))
    return out


def _clean(text: str) -> str:
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    return text


def latin_leaks(texts) -> set[str]:
    words = {w for s in texts for w in _LATIN.findall(_clean(s))}
    return {w for w in words if len(w) > 1 and w not in LATIN_OK}


def cyrillic_leaks(texts) -> set[str]:
    allowed = [*examples.examples("ru"), examples.default_text("ru"), *examples.PATH_PAIR["ru"]]
    words = set()
    for s in texts:
        for sentence in sorted(allowed, key=len, reverse=True):
            s = s.replace(sentence, " ")
        words |= set(_CYRILLIC.findall(_clean(s)))
    return words - CYRILLIC_OK


def english_numbers(texts) -> set[str]:
    """Numbers written the English way in Russian text: a decimal point (0.853) anywhere, a comma grouping thousands
    (603,689) in a table cell (elsewhere, and signed, «1,234» is a Russian decimal)."""
    found = set()
    for s in map(_clean, texts):
        found |= set(re.findall(r"\d+\.\d+", s))
        for cell in re.findall(r"\|([^|\n]*)(?=\|)", s):
            # a grouping starts with 1-9 and is no signed value («+0,560» is a Russian decimal)
            found |= set(re.findall(r"(?<![\d+−-])[1-9]\d{0,2}(?:,\d{3})+(?!\d)", cell))
    return found


def render(app, page: str, ui: str, text: str | None) -> list[list[str]]:
    """The page's texts, once per state worth seeing (each tab of the main page)."""
    params = {"ui": ui.upper()} | ({"text": text} if text else {})
    at = app(**params)
    if page != "memory":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    runs = [rendered_text(at)]
    if page == "memory":
        for tab in MEMORY_TABS[1:]:
            at.session_state["memory_tab"] = t(tab, ui)
            at.run()
            assert not at.exception, [e.message for e in at.exception]
            runs.append(rendered_text(at))
    return runs


@pytest.mark.parametrize("text", [None, RU_SENTENCE], ids=["default", "russian"])
@pytest.mark.parametrize("page", PAGES)
def test_russian_ui_shows_no_english(app, page, text):
    for texts in render(app, page, "ru", text):
        assert texts, "nothing rendered"
        assert not latin_leaks(texts), (latin_leaks(texts), [s for s in texts if latin_leaks([s])][:5])
        assert not english_numbers(texts), [s for s in texts if english_numbers([s])][:5]


@pytest.mark.parametrize("page", PAGES)
def test_english_ui_shows_no_russian(app, page):
    for texts in render(app, page, "en", None):
        assert not cyrillic_leaks(texts), (cyrillic_leaks(texts), [s for s in texts if cyrillic_leaks([s])][:5])


def test_the_scanner_catches_leaks():
    """The checks above would fail on the faults they exist for."""
    assert latin_leaks(["Ось (log)", "t= unit=", "Ваше предложение"]) == {"log", "unit"}
    assert latin_leaks(["h_t и W_hh, P(+) и ⟨unk⟩; `python -m rnn_core`; ru-lstm"]) == set()
    assert english_numbers(["P(+) = 0.853", "| Всего | 603,689 |"]) == {"0.853", "603,689"}
    assert not english_numbers(["P(+) = 0,853", "| Всего | 603\xa0689 |", "логит 1,234"])
    assert cyrillic_leaks(["Examples", examples.examples("ru")[0], "Ошибка"]) == {"Ошибка"}


def test_russian_training_run_shows_no_english(app, monkeypatch):
    """The training page after a run (result, curves, confusion matrix) in the Russian UI."""
    from app_pages import jobs

    monkeypatch.setattr(jobs, "MAX_SECONDS", 30)
    at = app(ui="RU")
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_source").set_value("upload").run()
    rows = ["текст,метка"] + [f"хороший добрый фильм {i},1" for i in range(40)] + \
        [f"плохой скучный фильм {i},0" for i in range(40)]
    at.file_uploader(key="train_csv").upload("data.csv", "\n".join(rows).encode(), "text/csv").run()
    at.button[0].click().run()
    job = at.session_state["train_job"]
    assert job.wait(60) and job.error is None
    at.run()
    assert not at.exception and at.success
    texts = rendered_text(at)
    assert not latin_leaks(texts), (latin_leaks(texts), [s for s in texts if latin_leaks([s])][:5])
    assert not english_numbers(texts), [s for s in texts if english_numbers([s])][:5]
