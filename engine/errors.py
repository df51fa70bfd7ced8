"""User-facing errors. The CLI prints these in one line (no traceback) and exits non-zero."""

from __future__ import annotations


class AnchorworldError(Exception):
    """Base class for errors caused by user input or environment, not by a bug."""


class InputError(AnchorworldError, ValueError):
    """Bad input: names the file (or source), the field (a JSON path or property) and what was expected."""

    def __init__(self, source: str, field: str, expected: str) -> None:
        self.source = str(source)
        self.field = field
        self.expected = expected
        where = f"{self.source}: {field}" if field else self.source
        super().__init__(f"{where}: {expected}")
