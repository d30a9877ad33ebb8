"""House rules checked on the source itself: no Markdown/HTML switch that could render user text
(unsafe_allow_html), and no torch.load that could unpickle code (bundles are safetensors; a torch.load, if one is
ever needed, must pass weights_only=True). HTML is built only in rnn_core/safe_html.py, which escapes every token."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("rnn_core", "app_pages", "bench", "scripts")
SOURCES = [ROOT / "app.py", *(p for d in FOLDERS for p in (ROOT / d).rglob("*.py"))]


def test_sources_were_found():
    assert len(SOURCES) > 30 and (ROOT / "rnn_core" / "bundle.py") in SOURCES


def test_no_unsafe_allow_html():
    hits = [str(p.relative_to(ROOT)) for p in SOURCES if "unsafe_allow_html" in p.read_text(encoding="utf-8")]
    assert hits == []


def test_every_torch_load_refuses_pickled_code():
    bad = []
    for p in SOURCES:
        for m in re.finditer(r"torch\.load\((?P<args>[^)]*)\)", p.read_text(encoding="utf-8")):
            if "weights_only=True" not in m["args"]:
                bad.append(f"{p.relative_to(ROOT)}: {m.group(0)}")
    assert bad == []


def test_html_is_built_only_where_it_is_escaped():
    calls = {str(p.relative_to(ROOT)) for p in SOURCES if re.search(r"\bst\.html\(", p.read_text(encoding="utf-8"))}
    for rel in calls:  # each st.html call renders a builder from rnn_core.safe_html, never a raw string
        text = (ROOT / rel).read_text(encoding="utf-8")
        for m in re.finditer(r"st\.html\((\w+)\(", text):
            assert m.group(1) in {"token_chips", "weighted_chips"}, f"{rel}: st.html({m.group(1)}(...))"
        assert len(re.findall(r"st\.html\(", text)) == len(re.findall(r"st\.html\((?:token_chips|weighted_chips)\(",
                                                                        text)), rel
