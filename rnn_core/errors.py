"""The errors a user can cause. Everything that catches input problems raises one of these, so the CLI and the app
can show a one-line message instead of a traceback."""


class RnnLensError(Exception):
    """Base class: the message is meant for the user, as is."""


class InputError(RnnLensError, ValueError):
    """Text, CSV or settings the user gave cannot be used (empty text, missing column, one class only, ...)."""


class BundleError(RnnLensError):
    """A model bundle is missing, truncated, tampered with or inconsistent. The message names the file."""
