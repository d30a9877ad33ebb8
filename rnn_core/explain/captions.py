"""The gradient lab's captions and tables, written from the numbers (both the page and `python -m rnn_core explain`
print these, so what a reader sees is what the command prints). Pure text: no model runs here."""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .. import cells
from ..i18n import format_number, t

HOLDS = 0.1  # a Jacobian norm at the first word at or above this has "not vanished"
SOLVED = 0.95  # test accuracy that counts as "remembers the first token"


def _name(cell: str) -> str:
    return cells.CELLS[cell].title if cell in cells.CELLS else cell


def _values(pairs, spec: str, lang: str) -> str:
    return ", ".join(f"{_name(c)} {format_number(v, spec, lang)}" for c, v in pairs)


def jacobian_table(reports: Mapping[str, dict], lang: str = "en") -> list[dict]:
    """One row per cell and sentence length: the norm at the first word and the factor per step, trained and
    untrained, and (plain RNN) the spectral radius of W_hh. Values are formatted for the language."""
    fmt = lambda v, spec: "—" if v is None or not math.isfinite(v) else format_number(v, spec, lang)  # noqa: E731
    rows = []
    for cell, r in reports.items():
        for which, n in (("short", r["n_short"]), ("long", r["n_long"])):
            tr, un = r["trained"][which], r["untrained"][which]
            rho = (r["trained"]["w_hh"]["spectral_radius"], r["untrained"]["w_hh"]["spectral_radius"])
            rows.append({t("lab_col_cell", lang): _name(cell), t("lab_col_words", lang): str(n),
                         t("lab_col_trained", lang): fmt(tr["first"], ".2g"),
                         t("lab_col_per_step", lang): fmt(tr["per_step"], ".3f"),
                         t("lab_col_untrained", lang): fmt(un["first"], ".2g"),
                         t("lab_col_per_step", lang) + " ": fmt(un["per_step"], ".3f"),
                         t("lab_col_rho", lang): "—" if rho[0] is None else f"{fmt(rho[0], '.2f')} / "
                                                                             f"{fmt(rho[1], '.2f')}"})
    return rows


def markdown(rows: list[dict]) -> str:
    """A Markdown table of plain strings (numbers and cell names only: nothing a user typed)."""
    if not rows:
        return ""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows])


def jacobian_caption(reports: Mapping[str, dict], lang: str = "en") -> str:
    """What the ‖∂h_T/∂h_t‖ chart and table show, sentence by sentence, from the numbers."""
    if not reports:
        return ""
    any_r = next(iter(reports.values()))
    nl = any_r["n_long"]
    long = t("lab_words", lang, n=nl)
    untrained = [r["untrained"]["long"] for r in reports.values()]
    parts = [t("lab_untrained_line", lang, long=long, lo=min(c["first"] for c in untrained),
               hi=max(c["first"] for c in untrained), r=float(np.exp(np.mean([np.log(c["per_step"])
                                                                             for c in untrained]))))]
    rnn = reports.get("rnn")
    if rnn is not None:
        parts.append(t("lab_untrained_rnn", lang, rho=rnn["untrained"]["w_hh"]["spectral_radius"]))
        short, far = rnn["trained"]["short"], rnn["trained"]["long"]
        if rnn["n_short"] > 1 and short["first"] >= HOLDS:
            w = rnn["trained"]["w_hh"]
            parts.append(t("lab_rnn_holds", lang, words=t("lab_words", lang, n=rnn["n_short"]), v=short["first"],
                           rho0=rnn["untrained"]["w_hh"]["spectral_radius"], rho=w["spectral_radius"],
                           norm=w["spectral_norm"], r=short["per_step"], long=long, vl=far["first"],
                           rl=far["per_step"]))
        elif rnn["n_short"] > 1:
            parts.append(t("lab_rnn_vanishes", lang, words=t("lab_words", lang, n=rnn["n_short"]),
                           v=short["first"], r=short["per_step"], long=long, vl=far["first"]))
    parts.append(t("lab_long_compare", lang, long=long, values=_values(
        [(c, r["trained"]["long"]["first"]) for c, r in reports.items()], ".2g", lang)))
    gated = [c for c in reports if c != "rnn"]
    if rnn is not None and gated:
        v_rnn = rnn["trained"]["long"]["first"]
        weaker = [c for c in gated if reports[c]["trained"]["long"]["first"] < v_rnn]
        parts.append(t("lab_gated_not_more", lang, cells=", ".join(_name(c) for c in weaker)) if weaker
                     else t("lab_gated_more", lang))
    return " ".join(parts)


def factors_caption(report: dict, lang: str = "en") -> str:
    """What the one-step factor bars of the chosen cell show."""
    tr, un = report["trained"], report["untrained"]
    if len(tr["factors"]) == 0:
        return t("lab_factors_one_word", lang)
    gmean = lambda f: float(np.exp(np.mean(np.log(f))))  # noqa: E731
    key = "lab_factors_caption_c" if report.get("cell_state") else "lab_factors_caption"
    return t(key, lang, cell=_name(report["cell"]), gt=gmean(tr["factors"]),
             lo=float(tr["factors"].min()), hi=float(tr["factors"].max()), gu=gmean(un["factors"]),
             pt=float(np.prod(tr["factors"])), vt=tr["short"]["first"])


def long_range_table(sweep: dict, lang: str = "en") -> list[dict]:
    """Length × cell: mean test accuracy over the seeds, with each seed's accuracy in brackets."""
    pct = lambda v: format_number(v, ".0%", lang)  # noqa: E731
    rows = []
    for i, n in enumerate(sweep["lengths"]):
        row = {t("lab_col_length", lang): str(n)}
        for cell in sweep["cells"]:
            acc = sweep["accuracy"][cell]
            row[_name(cell)] = "—" if i >= len(acc) else (
                f"{pct(acc[i])} ({', '.join(pct(a) for a in sweep['accuracy_by_seed'][cell][i])})")
        rows.append(row)
    return rows


def long_range_caption(sweep: dict, lang: str = "en") -> str:
    seeds = ", ".join(str(s) for s in sweep["seeds"])
    parts = [t("lab_long_head", lang, seeds=seeds)]
    done = {c: sweep["accuracy"][c] for c in sweep["cells"] if sweep["accuracy"][c]}
    for cell, acc in done.items():
        lengths = sweep["lengths"][:len(acc)]
        failed = [n for n, a in zip(lengths, acc) if a < SOLVED]
        if failed:
            solved = [n for n, a in zip(lengths, acc) if a >= SOLVED and n < failed[0]]
            parts.append(t("lab_long_solved", lang, cell=_name(cell), length=solved[-1]) if solved
                         else t("lab_long_failed", lang, cell=_name(cell), length=failed[0]))
        else:
            parts.append(t("lab_long_solved", lang, cell=_name(cell), length=lengths[-1]))
    if done:
        longest = max(len(a) for a in done.values())
        n_max = sweep["lengths"][longest - 1]
        parts.append(t("lab_long_at_max", lang, length=n_max, values=_values(
            [(c, a[longest - 1]) for c, a in done.items() if len(a) == longest], ".0%", lang)))
        jac = [(c, float(np.mean([r["jac_init"][-1] for r in sweep["runs"] if r["cell"] == c
                                  and r["length"] == n_max]))) for c in done if len(done[c]) == longest]
        parts.append(t("lab_long_grad", lang, length=n_max, values=_values(jac, ".2g", lang)))
    return " ".join(parts)


def radius_caption(radii: dict, scale: float, lang: str = "en") -> str:
    """radii: radius_by_scale([1, scale])."""
    return t("lab_explode_radius", lang, scale=scale, rho=radii["spectral_radius"][1],
             norm=radii["spectral_norm"][1], rho1=radii["spectral_radius"][0], cross=radii["crossing"])


def exploding_caption(free: dict, clipped: dict, lang: str = "en") -> str:
    """free/clipped: explosion_summary of the unclipped and the clipped run."""
    if free["diverged_at"] is not None:
        first = t("lab_explode_free_nan", lang, step=free["diverged_at"])
    elif free["blew_up"]:
        first = t("lab_explode_free_blew", lang, g=free["max_grad_norm"], step=free["max_grad_step"],
                  u=free["max_update_norm"], w0=free["start_w_hh_norm"], w1=free["max_w_hh_norm"],
                  lmax=free["max_loss"], lend=free["final_loss"], chance=free["chance_loss"])
    else:
        first = t("lab_explode_free_calm", lang, g=free["max_grad_norm"], lmax=free["max_loss"],
                  lend=free["final_loss"], chance=free["chance_loss"])
    second = t("explode_result", lang, clip=clipped["clip"], g=clipped["max_grad_norm"],
               used=clipped["max_used_norm"], u=clipped["max_update_norm"], w1=clipped["max_w_hh_norm"],
               lmax=clipped["max_loss"], lend=clipped["final_loss"])
    return first + " " + second
