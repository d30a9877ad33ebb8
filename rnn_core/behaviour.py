"""The behaviour suite: hand-written sentences per capability, in the style of CheckList (Ribeiro et al., ACL 2020).

Accuracy on a test split says how often a model is right; the suite says *what* it can do: read review words,
flip on "not" / «не», keep "not bad" positive, let the clause after "but" / «но» decide, scale with "very",
ignore a grim topic ("a film about war") and survive typos and emoji. The sentences live in
rnn_core/data/behaviour/<lang>.csv (columns text,label,capability; label 1 = positive); they were written for
this suite and overlap no split of the training corpora (tests/test_behaviour.py). Nothing trains on them.

    python -m rnn_core check --model en-lstm [--json]
"""
from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path

from .errors import InputError

SUITE_DIR = Path(__file__).resolve().parent / "data" / "behaviour"
CAPABILITIES = ("plain", "negation", "negated_negative", "contrast", "intensifiers", "neutral_topic", "spelling")
# The pass rates the shipped LSTM and GRU are held to (tests/test_claims.py); spelling has no target.
TARGETS = {"plain": 0.95, "negation": 0.85, "negated_negative": 0.75, "contrast": 0.80, "intensifiers": 0.90,
           "neutral_topic": 0.80}


@lru_cache(maxsize=4)
def load_suite(lang: str) -> tuple[tuple[str, int, str], ...]:
    """(text, label, capability) rows of the suite for `lang` ('en' or 'ru')."""
    path = SUITE_DIR / f"{lang}.csv"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in SUITE_DIR.glob("*.csv")))
        raise InputError("no_suite", language=str(lang), have=have)
    with path.open(encoding="utf-8", newline="") as f:
        return tuple((r["text"], int(r["label"]), r["capability"]) for r in csv.DictReader(f))


def run_suite(model, vocab, lang: str, max_len: int = 50) -> dict:
    """Pass rate per capability (a sentence passes when P(positive) >= 0.5 matches its label), in one batched pass.
    Returns {"lang", "n", "pass_rate", "capabilities": {cap: {"n", "passed", "pass_rate"}}, "failures": [...]}."""
    from .train import encode_all, predict_ids

    rows = load_suite(lang)
    p = predict_ids(model, encode_all(vocab, [r[0] for r in rows], max_len)).tolist()
    caps: dict[str, dict] = {}
    failures = []
    for (text, label, cap), prob in zip(rows, p):
        c = caps.setdefault(cap, {"n": 0, "passed": 0})
        c["n"] += 1
        if (prob >= 0.5) == bool(label):
            c["passed"] += 1
        else:
            failures.append({"text": text, "label": label, "capability": cap, "probability": round(prob, 4)})
    for c in caps.values():
        c["pass_rate"] = round(c["passed"] / c["n"], 4)
    order = sorted(caps, key=lambda k: CAPABILITIES.index(k) if k in CAPABILITIES else len(CAPABILITIES))
    passed = sum(c["passed"] for c in caps.values())
    return {"lang": lang, "n": len(rows), "pass_rate": round(passed / max(len(rows), 1), 4),
            "capabilities": {k: caps[k] for k in order}, "failures": failures}


def card_summary(result: dict) -> dict:
    """What the metrics card keeps: the pass rates, not the failing sentences (the `check` command lists those)."""
    return {"lang": result["lang"], "n": result["n"], "pass_rate": result["pass_rate"],
            "capabilities": result["capabilities"]}


def check_bundle(name_or_path: str) -> dict:
    from .bundle import load_model

    b = load_model(name_or_path)
    return {"model": b.name, **run_suite(b.model, b.vocab, b.lang, b.max_len)}


def format_table(result: dict) -> str:
    lines = [f"behaviour suite ({result['lang']}, {result['n']} sentences) on {result.get('model', 'the model')}",
             f"{'capability':<18} {'pass':>6} {'n':>4}  target"]
    for cap, c in result["capabilities"].items():
        target = TARGETS.get(cap)
        mark = "" if target is None else f"{target:.0%} " + ("ok" if c["pass_rate"] >= target else "MISSED")
        lines.append(f"{cap:<18} {c['pass_rate']:>6.1%} {c['n']:>4}  {mark}")
    lines.append(f"{'all':<18} {result['pass_rate']:>6.1%} {result['n']:>4}")
    return "\n".join(lines)


def cmd_check(args) -> None:
    result = check_bundle(args.model)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(format_table(result))
    if args.failures:
        for f in result["failures"]:
            print(f"  {f['capability']:<18} label {f['label']}  P={f['probability']:.3f}  {f['text']}")


def add_parser(sub) -> None:
    """The `check` subcommand (registered by cli.build_parser)."""
    s = sub.add_parser("check", help="pass rate per capability on the behaviour suite")
    s.add_argument("--model", required=True, help="shipped name (en-lstm) or a bundle folder")
    s.add_argument("--json", action="store_true")
    s.add_argument("--failures", action="store_true", help="also list the sentences the model gets wrong")
    s.set_defaults(fn=cmd_check)


def markdown_cells(metrics: dict) -> str:
    """The suite column of the README's model table: pass rate per capability, short names."""
    beh = metrics.get("behaviour") or {}
    caps = beh.get("capabilities") or {}
    short = {"plain": "plain", "negation": "neg", "negated_negative": "neg-neg", "contrast": "contr",
             "intensifiers": "int", "neutral_topic": "topic", "spelling": "spell"}
    return " · ".join(f"{short.get(k, k)} {v['pass_rate']:.0%}" for k, v in caps.items()) or "n/a"
