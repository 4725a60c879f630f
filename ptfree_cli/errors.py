"""Source locations and the exceptions ptfree raises: user errors versus bugs.

Exceptions carry fields, not formatted text; ``cli.py`` decides how they look.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in an input file; line and column count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


class PtfreeError(Exception):
    """An error in what the user gave ptfree (exit code 2), not a bug.

    ``location`` says where, when the error is tied to a file; ``key`` is the
    path of the YAML key involved (``functions.free_pte.calls[0].if``).
    """

    def __init__(self, message: str, location: Location | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.key = key

    def __str__(self) -> str:
        text = f"{self.key}: {self.message}" if self.key else self.message
        return f"{self.location}: {text}" if self.location else text


class ModelError(PtfreeError):
    """A model file that cannot be read, parsed or validated."""


class ConfigError(PtfreeError):
    """A configuration (a ``.config`` file or an inline list) that is not usable."""


class LookupFailed(PtfreeError):
    """A name given on the command line (model, entry, backend) that does not exist."""


class GuardSyntaxError(PtfreeError):
    """A guard expression that does not parse; ``offset`` is 0-based in the text."""

    def __init__(self, message: str, text: str, offset: int) -> None:
        super().__init__(message)
        self.text = text
        self.offset = offset
