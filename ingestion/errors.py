"""Errors a person can act on.

A `UserError` carries one sentence that says what is wrong and what to do; the CLI prints
it without a traceback. Everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input or environment, explained in one actionable sentence."""
