"""The numbers behind "How it works": the specification's architecture table filled in from a loaded model, and
its steps 1–5 (tokenise → embed → RNN → last hidden state → sigmoid) on the user's own sentence."""
from __future__ import annotations

import math

from . import cells
from .bundle import Bundle
from .i18n import format_number, t
from .trace import Trace


def architecture_rows(b: Bundle, lang: str = "en") -> list[dict]:
    """One row per stage, with real sizes and parameter counts."""
    c, pc, cell = b.config, b.model.param_counts(), cells.get(b.cell).title
    col = lambda k: t(k, lang)  # noqa: E731
    return [
        {col("how_col_stage"): t("how_input", lang), col("how_col_what"): t("how_input_what", lang,
                                                                               max_len=c["max_len"]),
         col("how_col_shape"): t("how_shape_max_len", lang, max_len=c["max_len"]), col("how_col_params"): 0},
        {col("how_col_stage"): t("how_embedding", lang), col("how_col_what"): t("how_embedding_what", lang),
         col("how_col_shape"): f"{format_number(c['vocab_size'], ',', lang)} → {c['emb_dim']}",
         col("how_col_params"): pc["embedding"]},
        {col("how_col_stage"): t("how_rnn", lang, cell=cell), col("how_col_what"): t("how_rnn_what", lang),
         col("how_col_shape"): f"{c['emb_dim']} → {c['hidden_dim']}", col("how_col_params"): pc["recurrent"]},
        {col("how_col_stage"): t("how_output", lang), col("how_col_what"): t("how_output_what", lang),
         col("how_col_shape"): f"{c['hidden_dim']} → 1", col("how_col_params"): pc["output"]},
        {col("how_col_stage"): t("how_total", lang), col("how_col_what"): "", col("how_col_shape"): "",
         col("how_col_params"): pc["total"]},
    ]


def cell_param_rows(bundles: dict[str, Bundle], lang: str = "en") -> list[dict]:
    """Recurrent and total parameters of each cell, from the loaded models (the seed: GRU has fewer than LSTM)."""
    return [{t("col_cell", lang): cells.get(c).title, t("col_blocks", lang): cells.get(c).blocks,
             t("col_recurrent", lang): pc["recurrent"], t("col_total", lang): pc["total"]}
            for c, b in bundles.items() for pc in [b.model.param_counts()]]


def steps(tr: Trace, b: Bundle) -> dict:
    """The values of the five steps for this sentence (shapes are those of a batch of one, batch_first)."""
    n, e, h = len(tr.tokens), tr.x.shape[1], tr.h.shape[1]
    p = tr.p
    return {
        "n": n, "e": e, "h": h, "cell": cells.get(b.cell).title,
        "ids": list(zip(tr.tokens, tr.ids, tr.unknown)),
        "emb_shape": f"(1, {n}, {e})", "emb_first": [round(float(v), 3) for v in tr.x[0, :8]],
        "rnn_shape": f"(1, {n}, {h})", "h_last": [round(float(v), 3) for v in tr.h[-1, :8]],
        "logit": math.log(p / (1 - p)) if 0 < p < 1 else (math.inf if p >= 1 else -math.inf), "p": p,
        "label": tr.label,
    }


def markdown_table(rows: list[dict], lang: str = "en") -> str:
    """Rows of our own numbers and labels (never user text) as a Markdown table: cheaper to render than a
    dataframe, which would pull pandas and pyarrow into every rerun. Whole numbers are grouped for `lang`
    («603 689» in Russian: a comma there would read as a decimal sign)."""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    cell = lambda v: format_number(v, ",", lang) if isinstance(v, int) else str(v)  # noqa: E731
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
