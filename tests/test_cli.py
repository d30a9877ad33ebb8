"""The CLI as a user runs it: its stdout, stderr and exit code. Most cases call the CLI's main() in-process (a new
process pays ~2 s to import torch each time); a few run the real entry point, `python -m rnn_core`."""
import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from rnn_core.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args, stdin=None) -> subprocess.CompletedProcess:
    """main(argv) with stdin, stdout and stderr of its own, as a CompletedProcess."""
    out, err, before = io.StringIO(), io.StringIO(), sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        sys.stdin = before
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_process(*args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_core", *map(str, args)], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def assert_clean_error(r):
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_predict_json(tiny_bundle):
    r = run_process("predict", "--model", tiny_bundle, "--json", "This movie is good, not boring!")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["label"] in ("positive", "negative") and 0 <= out["probability"] <= 1
    assert (out["label"] == "positive") == (out["probability"] >= 0.5)
    assert out["tokens"] == ["this", "movie", "is", "good", ",", "not", "boring", "!"]
    assert out["unknown"] == ["this", "is", ",", "!"] and out["truncated"] is False and out["model"] == "tiny-lstm"


def test_trace_json_has_every_step(tiny_bundle):
    r = run("trace", "--model", tiny_bundle, "--json", "good", "movie")
    out = json.loads(r.stdout)
    assert out["tokens"] == ["good", "movie"] and len(out["h"]) == 2 and len(out["h"][0]) == 16
    assert set(out["gates"]) == {"input", "forget", "candidate", "output"} and len(out["c"]) == 2
    assert len(out["prefix_p"]) == 2 and out["prefix_p"][-1] == out["probability"]


@pytest.mark.parametrize("text", ["😀😀 great", "<script>alert(1)</script>", "bad\x07\u200bmovie",
                                  "это отличный фильм"])
def test_odd_text_classifies_normally(tiny_bundle, text):
    r = run("predict", "--model", tiny_bundle, "--json", text)
    assert r.returncode == 0 and 0 <= json.loads(r.stdout)["probability"] <= 1


def test_100k_characters_from_stdin_are_truncated(tiny_bundle):
    r = run("predict", "--model", tiny_bundle, "--json", "-", stdin="отличный фильм " * 6700)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["truncated"] and len(out["tokens"]) == 50 and out["n_tokens"] == 13400


def test_evaluate_csv(tiny_bundle, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("review,y\ngood movie,positive\nawful movie,NEGATIVE\nfun,1\nboring,0\n", encoding="utf-8")
    r = run("evaluate", "--model", tiny_bundle, "--csv", csv, "--text-col", "review", "--label-col", "y", "--json")
    out = json.loads(r.stdout)
    c = out["confusion"]
    assert out["n"] == 4 and c["tn"] + c["fp"] + c["fn"] + c["tp"] == 4
    assert out["accuracy"] == pytest.approx((c["tp"] + c["tn"]) / 4)


@pytest.mark.parametrize("args, content", [
    (["predict", "--model", "{b}", ""], None),
    (["predict", "--model", "{b}", "   \t "], None),
    (["predict", "--model", "no-such-model", "good"], None),
    (["predict", "--model", "/nonexistent/folder", "good"], None),
    (["evaluate", "--model", "{b}", "--csv", "/nonexistent.csv"], None),
    (["evaluate", "--model", "{b}", "--csv", "{csv}"], "text,label\ngood,maybe\n"),
    (["evaluate", "--model", "{b}", "--csv", "{csv}"], "words,label\ngood,1\n"),
    (["evaluate", "--model", "{b}", "--csv", "{csv}"], b"\x00\x01\x02binary"),
    (["evaluate", "--model", "{b}", "--csv", "{csv}"], "text,label\n\"unclosed,1\n"),
    (["evaluate", "--model", "{b}", "--csv", "{csv}"], "текст".encode("cp1251")),
    (["predict", "--model"], None),
    (["frobnicate"], None),
])
def test_bad_input_exits_2_with_one_line(tiny_bundle, tmp_path, args, content):
    csv = tmp_path / "bad.csv"
    if content is not None:
        csv.write_bytes(content if isinstance(content, bytes) else content.encode())
    r = run(*[a.format(b=tiny_bundle, csv=csv) for a in args])
    assert_clean_error(r)


def test_broken_bundle_is_a_clean_error(tiny_bundle):
    (tiny_bundle / "weights.safetensors").write_bytes(b"garbage")
    r = run_process("predict", "--model", tiny_bundle, "good")
    assert_clean_error(r)
    assert "weights.safetensors" in r.stderr


def test_help_needs_neither_torch_nor_pandas_and_names_no_internal_issue():
    """`rnn-lens --help` answers at once: argument parsing imports no heavy library (timed in python -m bench)."""
    code = ("import sys, contextlib, io\n"
            "from rnn_core.cli import build_parser\n"
            "p = build_parser()\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    for argv in ([], ['train'], ['predict'], ['models']):\n"
            "        try:\n"
            "            p.parse_args(argv + ['--help'])\n"
            "        except SystemExit:\n"
            "            pass\n"
            "print([m for m in ('torch', 'pandas', 'numpy', 'streamlit') if m in sys.modules])\n"
            "print(out.getvalue())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "[]"
    assert "usage:" in out and "issue" not in out.lower() and "#1" not in out
