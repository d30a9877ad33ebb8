"""`python -m rnn_core explain …`: every number the importance and gradient pages show, from the shell.

    explain importance --model en-lstm TEXT      integrated gradients per token (and the completeness check)
    explain occlusion  --model en-lstm TEXT      logit drop when each token is replaced
    explain gradients  --model en-rnn [--model en-lstm …] TEXT
                                                 ‖∂h_T/∂h_t‖₂ trained/untrained on TEXT and TEXT repeated to 50 words
    explain longrange  [--lengths …] [--seeds …] [--steps N] [--gate-bias B|none]
                                                 the first-token memory experiment (length × cell table)
    explain exploding  [--scale S] [--clip C] [--steps N] [--seed K]
                                                 training with and without clipping

--json prints the data; otherwise a table and the same caption the page shows (--ui en|ru picks its language).
"""
from __future__ import annotations

import json
import sys
import time

from ..cells import NAMES as CELLS
from ..errors import InputError
from . import lab_defaults as d

# torch, numpy and the lab itself are imported by the commands when they run: `--help` stays instant.


def _text(args) -> str:
    text = sys.stdin.read() if args.text == ["-"] else " ".join(args.text)
    if not text.strip():
        raise InputError("cli_empty_text")
    return text


def _plain(v):
    from .experiments import _plain

    return _plain(v)


def _trace(name: str, text: str):
    from ..bundle import load_model
    from ..model import serve_with_one_thread
    from ..trace import trace

    serve_with_one_thread()  # as the app does: small products, and threads only fight on a shared machine
    b = load_model(name)
    return b, trace(b.model, b.vocab, text, b.max_len)


def sentence_report(bundle, tr, long_len: int = d.LONG_SENTENCE, seed: int = 0) -> dict:
    """What the gradient page computes for one model and one traced sentence (the page calls this too)."""
    from .gradients import sentence_jacobians

    return sentence_jacobians(bundle.model, tr.ids, long_len, seed)


def cmd_attribution(args) -> None:
    from .attribution import occlusion, word_importance

    b, tr = _trace(args.model[0], _text(args))
    if args.kind == "importance":
        r = word_importance(b.model, tr.ids, tr.tokens)
        values, check = r["attributions"], {"sum": float(r["attributions"].sum()), "f_x": r["f_x"],
                                            "f_baseline": r["f_baseline"], "delta": r["delta"],
                                            "n_steps": r["n_steps"], "converged": r["converged"]}
    else:
        r = occlusion(b.model, tr.ids, tr.tokens)
        values, check = r["drop"], {"f_x": r["f_x"], "replace_with": r["replace_with"]}
    if args.json:
        print(json.dumps({"model": b.name, "kind": args.kind, "tokens": tr.tokens, "values": _plain(values),
                          "target": r["target"], **check}, ensure_ascii=False))
        return
    for tok, v in zip(tr.tokens, values):
        print(f"{tok!r:<20} {v:+.4f}")
    print(", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in check.items()))


def cmd_gradients(args) -> None:
    from . import captions

    text, reports, tokens = _text(args), {}, None
    for name in args.model:
        b, tr = _trace(name, text)
        reports[b.model.cell if b.model.cell not in reports else b.name] = sentence_report(b, tr, args.long_len,
                                                                                           args.seed)
        tokens = tr.tokens
    if args.json:
        print(json.dumps({"models": args.model, "tokens": tokens, "reports": _plain(reports)}, ensure_ascii=False))
        return
    print(captions.markdown(captions.jacobian_table(reports, args.ui)))
    print()
    print(captions.jacobian_caption(reports, args.ui))
    for cell, r in reports.items():
        print()
        print(captions.factors_caption(r, args.ui))
        print(f"{cell} ‖∂h_T/∂h_t‖₂, t = 1..{r['n_short']}: "
              + " ".join(f"{v:.3g}" for v in r["trained"]["short"]["norms"]))


def _bar():
    from tqdm import tqdm

    state = {}

    def progress(ev):
        if ev["kind"] == "run":
            if "bar" not in state:
                state["bar"] = tqdm(total=ev["n_runs"], desc="runs", file=sys.stderr)
            state["bar"].set_postfix(cell=ev["cell"], length=ev["length"], seed=ev["seed"])
        elif ev["kind"] == "done" and "bar" in state:
            state["bar"].update(1)

    return progress


def cmd_longrange(args) -> None:
    from . import captions
    from . import experiments as g

    settings = {"steps": args.steps, "gate_bias": None if args.gate_bias == "none" else float(args.gate_bias)}
    if args.write_default and not g.is_default(args.lengths, args.seeds, **settings) or (
            args.write_default and args.cells != list(CELLS)):
        raise InputError("lab_write_default_only")
    if args.shipped:
        sweep = g.default_sweep()
        if sweep is None:
            raise InputError("lab_no_shipped", file=str(g.DEFAULT_FILE), command=g.DEFAULT_COMMAND)
    else:
        sweep = g.long_range_sweep(args.cells, args.lengths, args.seeds, progress=_bar(), **settings)
    if args.write_default:
        g.DEFAULT_FILE.write_text(json.dumps(g.sweep_to_dict(sweep), ensure_ascii=False) + "\n")
        print(f"wrote {g.DEFAULT_FILE}", file=sys.stderr)
    if args.json:
        print(json.dumps(g.sweep_to_dict(sweep), ensure_ascii=False))
        return
    print(captions.markdown(captions.long_range_table(sweep, args.ui)))
    print()
    print(captions.long_range_caption(sweep, args.ui))
    print(f"\nwall time {sweep['seconds']:.1f} s (reported only; settings: {json.dumps(sweep['settings'])})")


def exploding_runs(scale: float = d.EXPLODING["init_scale"], clip: float = d.EXPLODING["clip"],
                   steps: int = d.EXPLODING["steps"], seed: int = d.EXPLODING["seed"], progress=None,
                   should_stop=None) -> dict:
    """The page's exploding experiment: the same start trained without and with clipping, plus W_hh's radius."""
    from . import experiments as g

    if not clip > 0:  # before the first run, not after it
        raise InputError("bad_clip")
    kw = {"init_scale": scale, "steps": steps, "seed": seed, "progress": progress, "should_stop": should_stop}
    runs = [g.exploding_experiment(clip=None, **kw), g.exploding_experiment(clip=clip, **kw)]
    return {"runs": runs, "summaries": [g.explosion_summary(r) for r in runs],
            "radii": g.radius_by_scale([1.0, scale], seed=seed), "scale": scale, "clip": clip}


def exploding_text(res: dict, lang: str) -> tuple[str, str]:
    from . import captions

    return (captions.radius_caption(res["radii"], res["scale"], lang),
            captions.exploding_caption(*res["summaries"], lang))


def cmd_exploding(args) -> None:
    from . import captions

    start = time.perf_counter()
    res = exploding_runs(args.scale, args.clip, args.steps, args.seed)
    if args.json:
        print(json.dumps(_plain(res), ensure_ascii=False))
        return
    for line in exploding_text(res, args.ui):
        print(line)
    print()
    head = ["run", "max raw ‖g‖", "max used ‖g‖", "max ‖Δθ‖", "max loss", "final loss", "max ‖W_hh‖₂", "diverged at"]
    rows = []
    for r, s in zip(res["runs"], res["summaries"]):
        rows.append(dict(zip(head, ["no clipping" if r["clip"] is None else f"clip {r['clip']:g}",
                                    f"{s['max_grad_norm']:.3g}", f"{s['max_used_norm']:.3g}",
                                    f"{s['max_update_norm']:.3g}", f"{s['max_loss']:.3g}", f"{s['final_loss']:.3g}",
                                    f"{s['max_w_hh_norm']:.3g}", str(s["diverged_at"] or "-")])))
    print(captions.markdown(rows))
    print(f"\nwall time {time.perf_counter() - start:.1f} s (reported only)")


def add_parser(sub) -> None:
    """Register `explain` and its sub-commands on the CLI's subparsers."""
    s = sub.add_parser("explain", help="the numbers behind the importance and gradient pages")
    kinds = s.add_subparsers(dest="kind", required=True, parser_class=type(s))

    def common(p):
        p.add_argument("--json", action="store_true")
        p.add_argument("--ui", choices=["en", "ru"], default="en", help="language of captions")
        return p

    for kind, hlp in (("importance", "integrated gradients per token"), ("occlusion", "occlusion per token")):
        p = common(kinds.add_parser(kind, help=hlp))
        p.add_argument("--model", required=True, action="append", help="shipped name (en-lstm) or a bundle folder")
        p.add_argument("text", nargs="+", help="the text, or - to read standard input")
        p.set_defaults(fn=cmd_attribution)
    p = common(kinds.add_parser("gradients", help="‖∂h_T/∂h_t‖ trained and untrained, on TEXT and a long TEXT"))
    p.add_argument("--model", required=True, action="append", help="repeat for several models (the page: all three)")
    p.add_argument("--long-len", type=int, default=d.LONG_SENTENCE)
    p.add_argument("--seed", type=int, default=0, help="seed of the untrained network")
    p.add_argument("text", nargs="+")
    p.set_defaults(fn=cmd_gradients)
    p = common(kinds.add_parser("longrange", help="can each cell remember the first token?"))
    p.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    p.add_argument("--lengths", nargs="+", type=int, default=list(d.LONG_LENGTHS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--steps", type=int, default=d.LONG_RANGE["steps"])
    p.add_argument("--gate-bias", default=str(d.LONG_RANGE["gate_bias"]), help="a number, or none for PyTorch's")
    p.add_argument("--shipped", action="store_true", help="print the shipped default results without training")
    p.add_argument("--write-default", action="store_true", help=f"rewrite {d.DEFAULT_FILE.name}")
    p.set_defaults(fn=cmd_longrange)
    p = common(kinds.add_parser("exploding", help="a scaled-up W_hh trained with and without clipping"))
    p.add_argument("--scale", type=float, default=d.EXPLODING["init_scale"])
    p.add_argument("--clip", type=float, default=d.EXPLODING["clip"])
    p.add_argument("--steps", type=int, default=d.EXPLODING["steps"])
    p.add_argument("--seed", type=int, default=d.EXPLODING["seed"])
    p.set_defaults(fn=cmd_exploding)

