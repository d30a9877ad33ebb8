"""The only place that turns tokens into HTML. Every piece of user text is escaped here, so a typed <script> or
<img onerror> is shown as text and never runs. md_escape does the same for Markdown."""
from __future__ import annotations

import html
import re

from .figures.palette import NEGATIVE, POSITIVE

_STYLE = """<style>
.rl-chips{line-height:2.1}
.rl-chip{display:inline-block;margin:2px 3px;padding:1px 8px;border-radius:10px;font-family:monospace;
border:1px solid #c9d3e0;background:#eef3fa;color:#1d2b3a}
.rl-chip.rl-unk{border:1px dashed #999;color:#888;background:#fafafa}
</style>"""


def token_chips(tokens: list[str], unknown: list[bool], unknown_title: str = "unknown word",
                titles: list[str] | None = None) -> str:
    """Tokens as inline chips; unknown ones dashed and greyed. Each chip's tooltip is its entry of `titles` (e.g.
    what the model looks the word up by), with `unknown_title` appended for unknown words."""
    titles = list(titles) if titles is not None else [""] * len(tokens)
    chips = []
    for tok, unk, tip in zip(tokens, unknown, titles):
        tip = " · ".join(x for x in (tip, unknown_title if unk else "") if x)
        attr = f' title="{html.escape(tip)}"' if tip else ""
        chips.append(f'<span class="rl-chip{" rl-unk" if unk else ""}"{attr}>{html.escape(tok)}</span>')
    chips = "".join(chips)
    return f'{_STYLE}<div class="rl-chips">{chips}</div>'


def weighted_chips(tokens: list[str], weights: list[float]) -> str:
    """Tokens tinted by a signed weight in [-1, 1] (blue = towards positive, orange = towards negative: the
    palette of every chart)."""
    chips = []
    for tok, w in zip(tokens, weights):
        w = max(-1.0, min(1.0, float(w)))
        rgb = _rgb(POSITIVE if w >= 0 else NEGATIVE)
        chips.append(f'<span class="rl-chip" style="background:rgba({rgb},{abs(w) * 0.75:.3f})" '
                     f'title="{w:+.3f}">{html.escape(tok)}</span>')
    return f'{_STYLE}<div class="rl-chips">{"".join(chips)}</div>'


def _rgb(hex_colour: str) -> str:
    return ",".join(str(int(hex_colour[k:k + 2], 16)) for k in (1, 3, 5))


def md_escape(text: str) -> str:
    """`text` as literal Markdown inside a sentence: the characters that make links, images, emphasis, code, tables,
    HTML or math are backslash-escaped, so a CSV column named "![x](http://…)" in an error message is shown, not
    fetched as an image. (Line-start markup such as "- " or "1." cannot occur mid-sentence and is left alone.)"""
    return re.sub(r"([\\`*_{}\[\]()!|<>~$])", r"\\\1", str(text))
