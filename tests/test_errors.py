"""Errors with codes: every user-facing error names a locale key err_<code> and gives the values it needs; the app
shows it in the UI language, str(e) (what the CLI prints) is English."""
import ast
from pathlib import Path

import pytest

from rnn_core import BundleError, InputError, RnnLensError
from rnn_core.i18n import LANGS, placeholders, strings

ROOT = Path(__file__).resolve().parent.parent
ERRORS = {"InputError", "BundleError", "RnnLensError"}


def raise_sites():
    """(file:line, code, keyword names) of every call that builds one of our errors in the engine and the pages."""
    for path in sorted([*(ROOT / "rnn_core").rglob("*.py"), *(ROOT / "app_pages").glob("*.py")]):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0] if node.args else None
                code = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                yield where, code, {k.arg for k in node.keywords}


SITES = list(raise_sites())


def test_the_scan_finds_the_raise_sites():
    assert len(SITES) > 40  # the engine has ~60: a scan that finds none would pass everything below


@pytest.mark.parametrize(("where", "code", "names"), SITES, ids=[s[0] for s in SITES])
def test_every_error_names_a_code_with_its_parameters(where, code, names):
    assert code is not None, f"{where}: the first argument must be a code (a string literal), not a sentence"
    for lang in LANGS:
        entry = strings(lang).get(f"err_{code}")
        assert entry is not None, f"{where}: err_{code} missing from {lang}.toml"
        forms = entry.values() if isinstance(entry, dict) else [entry]
        wanted = set().union(*(placeholders(f) for f in forms))
        assert wanted == names, f"{where}: err_{code} in {lang} wants {wanted}, the call gives {names}"


def test_an_error_is_english_as_a_string_and_russian_on_request():
    e = InputError("too_few_rows", n=3, min_rows=20)
    assert isinstance(e, ValueError) and isinstance(e, RnnLensError)
    assert str(e) == "The data has 3 usable rows; at least 20 are needed."
    assert e.message("ru") == "В данных 3 пригодные строки, а нужно не меньше 20."
    b = BundleError("bundle_vocab_size", file="m/vocab.json", n=21, config="config.json", expected=14)
    assert b.message("ru") == "В файле m/vocab.json 21 токен, а в config.json указано 14."
    with pytest.raises(ValueError, match="usable rows"):
        raise e


def test_a_bad_upload_is_explained_in_the_ui_language(app):
    at = app(ui="RU")
    at.switch_page("app_pages/train.py").run()
    at.radio(key="train_source").set_value("upload").run()
    at.file_uploader(key="train_csv").upload("data.csv", "текст,метка\nхорошо,1\n".encode("cp1251"), "text/csv").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Этот файл нельзя использовать: CSV-файл не в кодировке UTF-8: сохраните "
                                           "его в UTF-8 и попробуйте снова."]


def test_a_broken_model_is_explained_in_the_ui_language(app, models_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "models"
    shutil.copytree(models_root, root)
    weights = root / "ru-lstm" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    monkeypatch.setenv("RNN_LENS_MODELS", str(root))
    at = app(ui="RU")
    assert not at.exception
    message = next(e.value for e in at.error)
    assert "не совпадает с контрольной суммой" in message and r"weights.safetensors" in message
