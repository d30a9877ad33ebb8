"""python -m rnn_core: list, run, trace, evaluate and train models from the shell.

Anything wrong with the user's input exits with code 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .cells import NAMES as CELLS
from .errors import InputError, RnnLensError

# Each command imports what it needs (torch, pandas, ...) when it runs: `--help` and argument errors answer at once.


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage dump
        raise InputError("cli_usage", message=message, command=self.prog)


def _text(args) -> str:
    text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
    if not text.strip():
        raise InputError("cli_empty_text")
    return text


def _warn_unknown(b, tokens: list[str], unknown: list[bool]) -> None:
    """Tell (on stderr) when most words are unknown to the model, e.g. Russian text on an English model: its answer
    then rests on <unk> alone."""
    flags = [u for tok, u in zip(tokens, unknown) if any(ch.isalpha() for ch in tok)]
    if flags and sum(flags) > len(flags) / 2:
        print(f"warning: {sum(flags)} of {len(flags)} words are unknown to {b.name} (trained on {b.lang} text); "
              "its answer says little about this text.", file=sys.stderr)


def cmd_models(args) -> None:
    from .bundle import list_bundles, models_dir

    rows = list_bundles()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    if args.markdown and rows:  # the README's metrics table is pasted from this
        from .report import markdown_table

        pct = lambda v: "n/a" if v is None else f"{v:.1%}"  # noqa: E731
        data = {"en": "Rotten Tomatoes (EN)", "ru": "RuSentiTweet (RU)"}
        from .behaviour import markdown_cells

        def card(r):  # the metrics card: the suite and the char baseline are not in list_bundles' summary
            path = models_dir() / r["name"] / "metrics.json"
            return json.loads(path.read_text(encoding="utf-8")) if "error" not in r and path.is_file() else {}

        print(markdown_table([{"model": r["name"], "data": data.get(r["lang"], r["lang"]),
                               "cell": str(r["cell"]).upper(), "vocab": str(r.get("vocab_size")),
                               "val acc": pct(r.get("val_accuracy")), "test acc": pct(r.get("test_accuracy")),
                               "TF-IDF+LR test acc (word / char)": pct(r.get("baseline_test_accuracy")) + " / "
                               + pct(card(r).get("baseline_char", {}).get("test_accuracy")),
                               "behaviour suite (pass rate)": markdown_cells(card(r))} for r in rows]))
        return
    if not rows:
        print(f"No models in {models_dir()}. Train them with: python -m rnn_core train --all")
    for r in rows:
        if "error" in r:
            print(f"{r['name']:<10} BROKEN: {r['error']}")
        else:
            acc = "n/a" if r["test_accuracy"] is None else f"{r['test_accuracy']:.1%}"
            print(f"{r['name']:<10} lang={r['lang']}  cell={r['cell']:<4}  test accuracy={acc}")


def cmd_predict(args) -> None:
    from .bundle import load_model
    from .trace import trace

    b = load_model(args.model)
    tr = trace(b.model, b.vocab, _text(args), b.max_len)
    _warn_unknown(b, tr.tokens, tr.unknown)
    out = {"model": b.name, "label": tr.label, "probability": tr.p, "tokens": tr.tokens,
           "unknown": [t for t, u in zip(tr.tokens, tr.unknown) if u], "truncated": tr.truncated,
           "n_tokens": tr.n_total}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        note = f"; first {len(tr.tokens)} of {tr.n_total} tokens used" if tr.truncated else ""
        print(f"{tr.label} (P(positive) = {tr.p:.3f}, model {b.name}{note})")


def cmd_trace(args) -> None:
    from .bundle import load_model
    from .trace import trace

    b = load_model(args.model)
    tr = trace(b.model, b.vocab, _text(args), b.max_len)
    _warn_unknown(b, tr.tokens, tr.unknown)
    if args.json:
        print(tr.to_json(model=b.name))
        return
    for t, tok in enumerate(tr.tokens):
        mark = " (unknown)" if tr.unknown[t] else ""
        print(f"{t + 1:>3} {tok!r:<20} P(positive)={tr.prefix_p[t]:.3f}  |h|={float((tr.h[t] ** 2).sum()) ** .5:.2f}"
              f"{mark}")


def cmd_evaluate(args) -> None:
    from .bundle import load_model
    from .data import read_labelled_csv
    from .train import evaluate

    b = load_model(args.model)
    ds = read_labelled_csv(args.csv, args.text_col, args.label_col)
    res = {"model": b.name, **evaluate(b.model, b.vocab, ds.texts, ds.labels, b.max_len), "dropped": ds.dropped}
    encoded = [b.vocab.encode(t, b.max_len) for t in ds.texts]
    _warn_unknown(b, [t for e in encoded for t in e.tokens], [u for e in encoded for u in e.unknown])
    if args.predictions:
        write_predictions(Path(args.predictions), b, ds, encoded)
    if args.json:
        print(json.dumps(res))
    else:
        c = res["confusion"]
        print(f"accuracy {res['accuracy']:.2%} on {res['n']} rows  (tn={c['tn']} fp={c['fp']} fn={c['fn']} "
              f"tp={c['tp']})")


def write_predictions(path: Path, b, ds, encoded) -> None:
    """One CSV row per input: text, label, P(positive), predicted label and the words the model does not know."""
    import csv

    from .train import predict_ids

    p = predict_ids(b.model, [e.ids or [b.vocab.unk_id] for e in encoded]).tolist()
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "label", "probability", "predicted", "unknown_words"])
            for text, y, prob, e in zip(ds.texts, ds.labels, p, encoded):
                w.writerow([text, y, f"{prob:.4f}", int(prob >= 0.5), " ".join(e.unknown_tokens)])
    except OSError as e:
        raise InputError("cannot_write", path=str(path), reason=str(e.strerror or e)) from None


def _bar():
    """A tqdm progress callback for the training loop: one bar per epoch, then a summary line."""
    from tqdm import tqdm

    state = {}

    def progress(ev):
        if ev["kind"] == "batch":
            if ev["batch"] == 1:
                state["bar"] = tqdm(total=ev["n_batches"], desc=f"epoch {ev['epoch']}", leave=False, file=sys.stderr)
            state["bar"].update(1)
            state["bar"].set_postfix(loss=f"{ev['loss']:.3f}")
            return
        if "bar" in state:
            state.pop("bar").close()
        print(f"  epoch {ev['epoch']}: train loss {ev['train_loss']:.3f}, val accuracy {ev['val_accuracy']:.3f}, "
              f"grad norm {ev['grad_norm_mean']:.2f} (max {ev['grad_norm_max']:.2f})", file=sys.stderr)

    return progress


def cmd_train(args) -> None:
    import time
    from dataclasses import fields, replace

    from .bundle import MODELS_DIR
    from .recipes import SHIPPED, load_dataset, neutral_texts, train_bundle
    from .train import TrainConfig

    if args.all:
        out_dir = Path(args.out_dir) if args.out_dir else (
            Path(tempfile.mkdtemp(prefix="rnn-lens-dry-")) if args.dry_run else MODELS_DIR)
        _check_out(out_dir, folder_ok=True)
        start, ru_csv = time.perf_counter(), Path(args.ru_csv) if args.ru_csv else None
        if args.jobs > 1:
            _train_parallel(ru_csv, out_dir, args.seed, args.jobs, args.dry_run)
        else:
            cache = {}  # one process: the three models of a language share its data and baselines
            for k, name in enumerate(SHIPPED, 1):
                print(f"[{k}/{len(SHIPPED)}] training {name} -> {out_dir / name}", file=sys.stderr)
                _say_trained(_train_one(name, ru_csv, out_dir, args.seed, args.dry_run, _bar(), cache))
        print(f"all {len(SHIPPED)} models in {time.perf_counter() - start:.0f} s -> {out_dir}", file=sys.stderr)
        return
    if not args.out:
        raise InputError("cli_need_out")
    if not args.lang and not args.csv:
        raise InputError("cli_need_data")
    _check_out(Path(args.out))
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    if args.no_clip:
        overrides["clip"] = None
    base = SHIPPED.get(f"{args.lang}-{args.cell}", TrainConfig()) if args.lang else TrainConfig()
    cfg = replace(base, **overrides)
    cfg.check()
    if args.dry_run:
        cfg = replace(cfg, epochs=1, max_batches=1)
    ds = load_dataset(args.lang, args.csv, args.text_col, args.label_col)
    lang = args.lang or "custom"
    card = train_bundle(ds, cfg, Path(args.out), lang, Path(args.out).name, "python -m rnn_core " +
                        " ".join(args.argv), _bar(), baseline=not args.dry_run,
                        neutral=neutral_texts(args.lang, args.csv, cfg),
                        ablate_lemmatize=lang == "ru" and not args.dry_run and args.ablate_lemmatize)
    print(f"{card['name']}: test accuracy {card['test_accuracy']:.3f} (val {card['val_accuracy']:.3f}) -> {args.out}")


def _say_trained(card: dict) -> None:
    base = card["baseline"].get("test_accuracy")
    print(f"{card['name']}: test accuracy {card['test_accuracy']:.3f} (val {card['val_accuracy']:.3f}"
          + (f", TF-IDF baseline {base:.3f}" if base is not None else "")
          + f"), {card['train_seconds']} s", flush=True)


def _train_one(name: str, ru_csv: Path | None, out_dir: Path, seed: int | None, dry_run: bool, progress=None,
               cache: dict | None = None) -> dict:
    from .recipes import train_shipped

    card = train_shipped(name, ru_csv, progress, dry_run, out_dir, {} if cache is None else cache, seed)
    if not dry_run:  # the memory-path and neuron pages need an index of training sentences
        index_bundle(out_dir / name, ru_csv)
    return card


def _train_parallel(ru_csv: Path | None, out_dir: Path, seed: int | None, jobs: int, dry_run: bool) -> None:
    """The six trainings in `jobs` processes, longest first so the last one does not run alone. Each run uses one
    thread with its own seed, so its weights are those of a sequential run (tested). Each process loads its
    language's data and computes its baselines itself (seconds, against minutes of training)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from .recipes import LONGEST_FIRST

    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        todo = [pool.submit(_train_one, name, ru_csv, out_dir, seed, dry_run) for name in LONGEST_FIRST]
        for name in LONGEST_FIRST:
            print(f"training {name} -> {out_dir / name}", file=sys.stderr)
        for done in as_completed(todo):
            _say_trained(done.result())


def _check_out(path: Path, folder_ok: bool = False) -> None:
    """Refuse an output path that cannot become a bundle folder before spending minutes on training."""
    if path.exists() and not path.is_dir():
        raise InputError("out_not_folder", path=str(path))
    if not folder_ok and path.is_dir() and any(path.iterdir()) and not (path / "config.json").is_file():
        raise InputError("out_not_bundle", path=str(path))


def index_bundle(path: Path, ru_csv: Path | None) -> dict:
    from .explain.extras import index_bundle as build

    return build(path, ru_csv)


def cmd_index(args) -> None:
    """Rebuild the PCA and neuron index of shipped bundles from their training split."""
    from .bundle import list_bundles
    from .explain.extras import index_shipped

    names = list_bundles() if args.all else [{"name": args.model}]
    if not args.all and not args.model:
        raise InputError("cli_need_model")
    for row in names:
        extras = index_shipped(row["name"], Path(args.ru_csv) if args.ru_csv else None)
        sizes = ", ".join(f"{k} {len(json.dumps(v)) / 1024:.0f} KB" for k, v in extras.items())
        print(f"{row['name']}: {sizes}")


def app_script() -> Path:
    """app.py of the installed app (the package rnn_lens_app), or of the clone this package runs from."""
    import importlib.util

    spec = importlib.util.find_spec("rnn_lens_app")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "app.py"
    return Path(__file__).resolve().parent.parent / "app.py"


def streamlit_flags(script: Path) -> list[str]:
    """The app's .streamlit/config.toml as command-line flags: Streamlit reads that file from the working directory
    only, and an installed app is started from anywhere. The file watcher is off (nobody edits an installed app)."""
    import tomllib

    cfg_path = script.parent / ".streamlit" / "config.toml"
    cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
    cfg.setdefault("server", {})["fileWatcherType"] = "none"
    flags = []
    for section, options in cfg.items():
        for key, value in options.items():
            if isinstance(value, list):
                continue  # lists (the watcher's blacklist) do not matter with the watcher off
            value = str(value).lower() if isinstance(value, bool) else str(value)
            flags.append(f"--{section}.{key}={value}")
    return flags


def cmd_app(args) -> None:
    import os

    script = app_script()
    if not script.is_file():
        raise InputError("app_not_installed", script=str(script))
    argv = [sys.executable, "-m", "streamlit", "run", str(script), *streamlit_flags(script), *args.streamlit_args]
    if args.print_command:
        print(" ".join(argv))
        return
    os.execv(sys.executable, argv)  # the server takes over this process: Ctrl+C and signals reach it directly


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rnn-lens", description="RNN Lens: sentiment RNNs you can look inside.")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    s = sub.add_parser("app", help="start the RNN Lens web app (Streamlit)",
                       epilog="Any other option is passed on to streamlit run, e.g. --server.port 8502 "
                              "--server.address 127.0.0.1.")
    s.add_argument("--print-command", action="store_true", help="print the command instead of running it")
    s.set_defaults(fn=cmd_app)
    s = sub.add_parser("models", help="list the shipped models")
    s.add_argument("--json", action="store_true")
    s.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    s.set_defaults(fn=cmd_models)
    for name, fn, hlp in (("predict", cmd_predict, "label and probability"), ("trace", cmd_trace, "step by step")):
        s = sub.add_parser(name, help=hlp)
        s.add_argument("--model", required=True, help="shipped name (en-lstm) or a bundle folder")
        s.add_argument("--json", action="store_true")
        s.add_argument("text", nargs="+", help="the text, or - to read standard input")
        s.set_defaults(fn=fn)
    s = sub.add_parser("evaluate", help="accuracy on a labelled CSV")
    s.add_argument("--model", required=True)
    s.add_argument("--csv", required=True)
    s.add_argument("--text-col", default="text")
    s.add_argument("--label-col", default="label")
    s.add_argument("--json", action="store_true")
    s.add_argument("--predictions", metavar="OUT.csv", help="also write one row per input with its prediction")
    s.set_defaults(fn=cmd_evaluate)
    s = sub.add_parser("index", help="rebuild a bundle's PCA and neuron index from its training split")
    s.add_argument("--model", help="shipped model name")
    s.add_argument("--all", action="store_true", help="every shipped model")
    s.add_argument("--ru-csv", help="path to rusentitweet_train.csv (Russian models)")
    s.set_defaults(fn=cmd_index)
    s = sub.add_parser("train", help="train one model, or rebuild all shipped ones with --all")
    s.add_argument("--all", action="store_true", help="rebuild every shipped bundle")
    s.add_argument("--ru-csv", help="path to rusentitweet_train.csv (with --all)")
    s.add_argument("--out-dir", help="with --all: where to write (default assets/models)")
    s.add_argument("--jobs", type=int, default=1, help="with --all: trainings run at once (one core each)")
    s.add_argument("--lang", choices=["en", "ru"])
    s.add_argument("--cell", choices=CELLS, default="lstm")
    s.add_argument("--csv", help="a CSV with a text and a label column")
    s.add_argument("--text-col", default="text")
    s.add_argument("--label-col", default="label")
    s.add_argument("--out", help="bundle folder to write")
    s.add_argument("--dry-run", action="store_true", help="one batch per model (checks the pipeline)")
    s.add_argument("--no-clip", action="store_true", help="turn gradient clipping off")
    for name, typ in (("epochs", int), ("lr", float), ("lr_decay", float), ("dropout", float),
                      ("word_dropout", float), ("rare_dropout", float), ("weight_decay", float), ("emb_dim", int),
                      ("hidden_dim", int), ("batch_size", int), ("max_len", int), ("clip", float), ("seed", int),
                      ("min_count", int), ("max_vocab", int), ("patience", int), ("prefix_weight", float),
                      ("emb_init", float), ("neutral_weight", float), ("time_limit", float), ("threads", int)):
        s.add_argument("--" + name.replace("_", "-"), dest=name, type=typ)
    s.add_argument("--lemmatize", action=argparse.BooleanOptionalAction, default=None,
                   help="look Russian words up by lemma (the Russian recipes do)")
    s.add_argument("--ablate-lemmatize", action="store_true",
                   help="with --lang ru: also train without (or with) lemmas and record both in the card")
    s.set_defaults(fn=cmd_train)
    from .behaviour import add_parser as add_check

    add_check(sub)
    from .explain.commands import add_parser as add_explain

    add_explain(sub)
    return p


def _one_line(message: str) -> str:
    """An error as one printable line: a file or a CSV header may carry newlines and terminal escape codes."""
    return "".join(ch if ch.isprintable() else " " for ch in str(message)).strip()[:2000]


def main(argv=None) -> int:
    """Run a command. Whatever happens, the user reads one line, never a traceback: exit 2 for a problem with
    their input (or a file that would not fit in memory), 1 for a failure of ours."""
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra and args.cmd != "app":  # only `app` passes options on (to streamlit run)
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.streamlit_args = extra
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for the command a metrics card records
        args.fn(args)
    except RnnLensError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory (is a file or a size far larger than a model of this app needs?)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 -- a bug of ours still gets one line, with its type for the report
        print(f"error: unexpected {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1
    return 0
