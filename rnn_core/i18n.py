"""Every string a user reads lives in rnn_core/locales/<lang>.toml; this module looks them up and fills them in.

`t(key, lang, **values)` returns the string for `key` in `lang` with its {placeholders} filled. Numbers are written
the way the language writes them (CLDR data through Babel): a format spec such as {p:.3f}, {acc:.1%} or {n:,} keeps
its meaning (decimals, percent, thousands grouping) but the decimal sign and the group separator follow the
language — «0,850», «78,8 %», «603 689». A counted phrase is a TOML table of CLDR plural forms (one/few/many/other);
t() picks the form for the value of `n`, so Russian nouns agree: 1 шаг, 3 шага, 5 шагов, 21 шаг.

A key missing from a language falls back to English; tests/test_i18n.py checks that none is missing.
"""
from __future__ import annotations

import re
import string
import tomllib
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import (
    format_decimal,
    format_percent,
    format_scientific,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)

LANGS = ("en", "ru")
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")


@cache
def strings(lang: str) -> dict[str, str | dict[str, str]]:
    """The whole locale file of `lang` (read once per process)."""
    with open(LOCALES_DIR / f"{lang}.toml", "rb") as f:
        return tomllib.load(f)


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural_form(n, lang: str) -> str:
    """The CLDR plural category of the number `n` in `lang`: one, few, many or other (ru); one or other (en)."""
    return _locale(lang).plural_form(abs(n))


_SPEC = re.compile(r"^(?P<group>,)?(?:\.(?P<prec>\d+))?(?P<kind>[fegn%d]?)$")


def format_number(value, spec: str, lang: str) -> str:
    """`value` formatted like format(value, spec), but with the language's decimal sign and grouping.

    Understood specs: "" (as str(), but with the language's decimal sign), ",", ".Nf", ",.Nf", ".N%", ".Ne",
    ".Ng", "d". Anything else falls back to Python's format()."""
    m = _SPEC.match(spec)
    if m is None or isinstance(value, bool):
        return format(value, spec)
    group, prec, kind = m["group"], m["prec"], m["kind"]
    loc = _locale(lang)
    if kind == "%":
        digits = int(prec or 0)  # the language's own pattern ("#,##0%" en, "#,##0\u00a0%" ru) with `digits` decimals
        pattern = re.sub(r"0(?=[^0]*$)", "0." + "0" * digits if digits else "0", loc.percent_formats[None].pattern)
        return format_percent(value, pattern, locale=loc)
    if kind == "e":
        digits = int(prec or 6)
        return format_scientific(value, "0." + "0" * digits + "E00" if digits else "0E00", locale=loc)
    if kind == "g":
        text = format(value, spec.replace(",", ""))
        return _localise_plain(text, lang)
    if kind == "f" or prec is not None:
        digits = int(prec or 6)
        return format_decimal(value, ("#,##0" if group else "0") + ("." + "0" * digits if digits else ""),
                              locale=loc)
    if group:
        return format_decimal(value, "#,##0.###", locale=loc)
    return _localise_plain(format(value, spec), lang)


def plotly_separators(lang: str) -> str:
    """Plotly's layout.separators for `lang`: its decimal sign then its group sign (".," en, ",\u00a0" ru), so axis
    ticks and hover numbers (%{y:.3f}) in the browser are written as t() writes them."""
    return get_decimal_symbol(_locale(lang)) + get_group_symbol(_locale(lang))


def number_list(values, spec: str, lang: str) -> str:
    """A short list of numbers as "[0.12, -0.5]" (en) or "[0,12; −0,5]" (ru: with a decimal comma the items are
    parted by semicolons, as Russian texts do)."""
    sep = "; " if get_decimal_symbol(_locale(lang)) == "," else ", "
    return "[" + sep.join(format_number(v, spec, lang) for v in values) + "]"


def _localise_plain(text: str, lang: str) -> str:
    """Python's digits with the language's decimal sign (and its minus sign)."""
    decimal, minus = get_decimal_symbol(_locale(lang)), get_minus_sign_symbol(_locale(lang))
    return text.replace(".", decimal).replace("-", minus)


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_number(value, format_spec, self.lang)
        return format(value, format_spec)


def t(key: str, lang: str = "en", **values) -> str:
    """The string `key` in `lang`, placeholders filled from `values` (numbers formatted for the language).
    A plural table picks its form by values["n"]."""
    entry = strings(lang).get(key)
    if entry is None:
        entry = strings("en")[key]  # KeyError for a key no language has: a bug, not a user error
        lang_used = "en"
    else:
        lang_used = lang
    if isinstance(entry, dict):
        n = values.get("n")
        if n is None:
            raise KeyError(f"the counted string {key!r} needs n=")
        entry = entry.get(plural_form(n, lang_used)) or entry["other"]
    return _Formatter(lang_used).format(entry, **values) if values else entry


def placeholders(text: str) -> set[str]:
    """The names of the {placeholders} in a string (for the locale tests)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
