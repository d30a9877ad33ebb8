"""The command line of the benchmark: run the parts, print a table (or one JSON object), exit 0."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from rnn_core.bundle import load_model, models_dir
from rnn_core.model import CELLS

from . import (
    APP,
    MINIMAL_APP,
    REQUIRED_KEYS,
    RU_SENTENCE,
    SENTENCE_50,
    TARGETS,
    describe_models,
    machine_info,
    make_seed_models,
    measure_core,
    measure_figure,
    shipped_available,
)

PARTS = ("core", "figure", "rerun", "cold", "rss")


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def passed(res: dict) -> dict:
    """{target key: True/False, or None when not measured}; a per-cell value passes when every cell does."""
    out = {}
    for key, limit in TARGETS.items():
        v = res.get(key)
        out[key] = None if v is None else all(x <= limit for x in (v.values() if isinstance(v, dict) else [v]))
    return out


def part_core(args, env, bundles) -> dict:
    log(f"core: trace vs fused, {args.runs} runs per cell")
    warmup = max(args.runs // 10, 1)
    res = measure_core(bundles, SENTENCE_50, runs=args.runs, warmup=warmup)
    threads = torch.get_num_threads()
    if threads > 1:
        # Again on one thread: on a busy machine, torch's thread pool waits for a core at every parallel step, which
        # slows the fused kernels far more than the trace's small ops. One thread shows the algorithms' own cost.
        torch.set_num_threads(1)
        try:
            one = measure_core(bundles, SENTENCE_50, runs=args.runs, warmup=warmup)
        finally:
            torch.set_num_threads(threads)
        res["core_1thread"] = {k: one[k] for k in ("trace_ms_p50", "fused_ms_p50", "trace_fused_ratio")}
    return res


def part_figure(args, env, bundles) -> dict:
    return measure_figure(bundles, SENTENCE_50)


def part_rerun(args, env, bundles) -> dict:
    from .apptest import measure_rerun

    log(f"rerun: AppTest, {args.rerun_runs} runs")
    return measure_rerun(SENTENCE_50, runs=args.rerun_runs, warmup=3)


def part_cold(args, env, bundles) -> dict:
    from .browser import cold_start

    cs = cold_start({"app": APP, "minimal": MINIMAL_APP}, env, reps=args.cold_reps, log=log)
    app, minimal = statistics.median(cs["times"]["app"]), statistics.median(cs["times"]["minimal"])
    return {"cold_start_s": app, "cold_start_minimal_s": minimal, "cold_start_ratio": app / minimal,
            "cold_start_health_s": {k: statistics.median(v) for k, v in cs["health"].items()},
            "cold_start_runs": {k: [round(x, 2) for x in v] for k, v in cs["times"].items()},
            # Each pair ran back to back, so its ratio sees one load level: a check on the ratio of medians.
            "cold_start_pair_ratios": [round(a / m, 2) for a, m in zip(cs["times"]["app"], cs["times"]["minimal"])]}


def part_rss(args, env, bundles) -> dict:
    from .browser import measure_rss

    return measure_rss(env, [SENTENCE_50, RU_SENTENCE], log=log)


def measure(args, env: dict) -> dict:
    res = {k: None for k in REQUIRED_KEYS}
    res["machine"] = machine_info()
    res["models"] = args.models_info
    res["sentence"] = {"text": SENTENCE_50, "tokens": 50}
    bundles = {c: load_model(f"en-{c}") for c in CELLS}
    fns = {"core": part_core, "figure": part_figure, "rerun": part_rerun, "cold": part_cold, "rss": part_rss}
    for name in args.parts:
        try:
            res.update(fns[name](args, env, bundles))
        except Exception as e:  # one broken part must not cost the others' numbers: report it and go on
            log(f"{name}: failed: {e.__class__.__name__}: {e}")
            res.setdefault("errors", {})[name] = f"{e.__class__.__name__}: {e}"[:2000]
    return res


def fmt(v, unit: str = "", digits: int = 2) -> str:
    if v is None:
        return "skipped"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def table(res: dict) -> str:
    rows = []  # (metric, measured, target, status)
    if res.get("load"):
        return align(load_rows(res["load"]))

    def row(label, v, unit="", key=None, digits=2):
        limit = TARGETS.get(key) if key else None
        status = "" if limit is None or v is None else ("PASS" if v <= limit else "FAIL")
        rows.append((label, fmt(v, unit, digits), f"≤ {limit:g}{unit}" if limit is not None else "", status))

    def per_cell(d, key, cell):
        return (d.get(key) or {}).get(cell)

    one = res.get("core_1thread") or {}
    for cell in CELLS:
        row(f"trace ms p50 ({cell})", per_cell(res, "trace_ms_p50", cell), " ms", digits=3)
        row(f"fused ms p50 ({cell})", per_cell(res, "fused_ms_p50", cell), " ms", digits=3)
        row(f"trace / fused ({cell})", per_cell(res, "trace_fused_ratio", cell), "×", "trace_fused_ratio", 1)
    for cell in CELLS if one else ():
        row(f"1 thread: trace / fused ms ({cell})", f"{per_cell(one, 'trace_ms_p50', cell):.3f} / "
            f"{per_cell(one, 'fused_ms_p50', cell):.3f} ms")
        row(f"1 thread: trace / fused ({cell})", per_cell(one, "trace_fused_ratio", cell), "×", "trace_fused_ratio", 1)
    row("rerun ms p50 (AppTest, main page)", res.get("rerun_ms_p50"), " ms", digits=1)
    row("rerun ms p95 (AppTest, main page)", res.get("rerun_ms_p95"), " ms", "rerun_ms_p95", 1)
    for cell in CELLS:
        row(f"figure bytes ({cell})", per_cell(res, "figure_bytes", cell))
        row(f"raw matrix bytes ({cell})", per_cell(res, "raw_matrix_bytes", cell))
        row(f"figure / raw ({cell})", per_cell(res, "figure_raw_ratio", cell), "×", "figure_raw_ratio")
    row(f"figure bytes via AppTest ({res.get('app_model', '?')})", res.get("figure_bytes_app"))
    row("raw matrix bytes (same model)", res.get("raw_matrix_bytes_app"))
    row("figure / raw via AppTest", res.get("figure_raw_ratio_app"), "×", "figure_raw_ratio_app")
    row("cold start app (median)", res.get("cold_start_s"), " s")
    row("cold start minimal app (median)", res.get("cold_start_minimal_s"), " s")
    row("cold start app / minimal", res.get("cold_start_ratio"), "×", "cold_start_ratio")
    row("server RSS, all six models", res.get("rss_mb"), " MB", "rss_mb", 0)
    rows += [(f"{name}: FAILED", msg.splitlines()[0][:90], "", "FAIL") for name, msg in res.get("errors", {}).items()]
    return align(rows)


def align(rows: list[tuple]) -> str:
    w = [max(len(r[i]) for r in rows + [("metric", "measured", "target", "")]) for i in range(3)]
    lines = [f"{'metric':<{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  result"]
    # A skipped part keeps only its target rows, so the table still shows what was not checked.
    lines += [f"{a:<{w[0]}}  {b:>{w[1]}}  {c:<{w[2]}}  {d}".rstrip() for a, b, c, d in rows if b != "skipped" or c]
    return "\n".join(lines)


def load_rows(ld: dict) -> list[tuple]:
    rows = [("load: sessions", str(ld["sessions"]), "", "")]
    for phase in ("alone", "while_training"):
        g = ld.get(phase)
        if not g:
            rows.append((f"load ({phase})", "not reached", "", "FAIL"))
            continue
        rows.append((f"load ({phase}): all results correct", str(g["all_correct"]), "True",
                     "PASS" if g["all_correct"] else "FAIL"))
        rows.append((f"load ({phase}): time to result p50", fmt(g["result_s_p50"], " s"), "", ""))
        rows.append((f"load ({phase}): time to result p95", fmt(g["result_s_p95"], " s"), "", ""))
    for key in ("first_visit_s_p50", "first_visit_s_p95"):
        if key in ld:
            rows.append((f"load: {key.replace('_', ' ')}", fmt(ld[key], " s"), "", ""))
    for key in ("rss_mb_before", "rss_mb_after_first_visits", "rss_mb_after", "rss_mb_after_training"):
        if key in ld:
            rows.append((f"load: server {key.replace('_', ' ')}", fmt(ld[key], " MB", 0), "", ""))
    for name, c in ld.get("cpu", {}).items():
        rows.append((f"load CPU s ({name}): server / bench+browser / others", f"{c['cpu_s_server']:.1f} / "
                     f"{c['cpu_s_bench_and_browser']:.1f} / {c['cpu_s_others']:.1f}",
                     f"of {c['cpu_capacity_s']:.0f} in {c['wall_s']:.0f} s", ""))
    for key in ("training_at_start", "training_at_end"):
        if key in ld:
            rows.append((f"load: {key.replace('_', ' ')}", ld[key], "", ""))
    rows.append(("load: timed out", str(ld["timed_out"]), "False", "FAIL" if ld["timed_out"] else "PASS"))
    if ld.get("error"):
        rows.append(("load: error", ld["error"][:100], "", "FAIL"))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=sys.modules[__package__].__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object instead of the table")
    p.add_argument("--load", type=int, nargs="?", const=10, default=None, metavar="N",
                   help="instead of the measurements: N concurrent browser sessions (default 10), alone and while "
                        "a model trains")
    p.add_argument("--runs", type=int, default=200, help="timed calls per cell for trace vs fused")
    p.add_argument("--rerun-runs", type=int, default=40, help="timed AppTest reruns")
    p.add_argument("--cold-reps", type=int, default=3, help="cold starts per app")
    p.add_argument("--skip", nargs="*", default=[], choices=PARTS, help="parts not to measure (reported as null)")
    p.add_argument("--seed-models", action="store_true", help="use random seed-sized bundles even if trained exist")
    p.add_argument("--timeout", type=float, default=180, help="overall limit of --load, seconds")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads for the in-process parts (default: torch's own choice, as the app runs)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.parts = [x for x in PARTS if x not in args.skip]

    tmp = None
    saved_env = os.environ.get("RNN_LENS_MODELS")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the table or the JSON and nothing else
            if shipped_available() and not args.seed_models:
                source = "shipped"
            else:
                tmp = Path(tempfile.mkdtemp(prefix="rnn-lens-bench-"))
                log(f"trained models not found in {models_dir()}: using random seed-sized bundles in {tmp}")
                os.environ["RNN_LENS_MODELS"] = str(make_seed_models(tmp))
                source = "seed (random weights, vocab 10k, emb 100, hidden 128)"
            env = {"RNN_LENS_MODELS": str(models_dir())}
            args.models_info = describe_models(source)
            t0 = time.perf_counter()
            if args.load is not None:
                from .browser import load_test

                res = {"machine": machine_info(), "models": args.models_info}
                res["load"] = load_test(args.load, env, args.timeout, log=log)
            else:
                res = measure(args, env)
            res["targets"] = TARGETS
            res["passed"] = passed(res)
            if "load" in res:
                ld = res["load"]
                res["passed"]["load_all_correct"] = (not ld["timed_out"] and "error" not in ld and
                                                     all(ld.get(k, {}).get("all_correct") for k in
                                                         ("alone", "while_training")))
            res["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
            res["wall_s"] = time.perf_counter() - t0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            if saved_env is None:
                os.environ.pop("RNN_LENS_MODELS", None)
            else:
                os.environ["RNN_LENS_MODELS"] = saved_env
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        m = res["machine"]
        print(f"RNN Lens benchmark · models: {res['models']['source']} ({res['models']['dir']})")
        print(f"machine: {m['cores']} cores, load average {m['loadavg']} at start, {m['loadavg_end']} at end; "
              f"python {m['python']}, torch {m['torch']} ({m['torch_threads']} threads), streamlit {m['streamlit']}")
        print(table(res))
    return 0
