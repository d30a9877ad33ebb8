"""The errors a user can cause. Everything that catches input problems raises one of these, so the CLI and the app
can show a one-line message instead of a traceback.

Each error carries a code and its parameters, not a finished sentence: `raise InputError("csv_empty")`,
`raise BundleError("bundle_missing_file", file=..., folder=...)`. The text lives in the locale files under
`err_<code>`, so the app shows it in the UI language (`e.message("ru")`) while `str(e)` — what the CLI prints on
stderr — is the English one. tests/test_errors.py checks that every raise site names a code both locales have.
"""
from __future__ import annotations


class RnnLensError(Exception):
    """Base class: a user-facing error with a code (locale key err_<code>) and the values its text needs."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The text for the user in `lang`. Parameters may come from a file or the user: escape before Markdown."""
        from .i18n import strings, t

        if f"err_{self.code}" not in strings("en"):  # a raise site not converted yet: its text, as it was written
            return self.code
        return t(f"err_{self.code}", lang, **self.params)


class InputError(RnnLensError, ValueError):
    """Text, CSV or settings the user gave cannot be used (empty text, missing column, one class only, ...)."""


class BundleError(RnnLensError):
    """A model bundle is missing, truncated, tampered with or inconsistent. The message names the file."""
