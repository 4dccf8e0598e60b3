"""Errors the engine raises. Every one names what is wrong; rule-file errors also name file and line."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises."""


class ExpressionError(EngineError):
    """A condition that does not parse or does not type-check; `column` is 1-based within the condition."""

    def __init__(self, reason: str, column: int | None = None) -> None:
        self.reason = reason
        self.column = column
        super().__init__(reason if column is None else f"{reason} (column {column})")


class RuleFileError(EngineError):
    """One problem in one rule file, at a line where one is known."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {reason}")


class ProfileDateError(EngineError, ValueError):
    """A profile whose dates cannot hold on the evaluation date: a company founded after it."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class RuleSetError(EngineError):
    """A rule set that cannot be loaded: every problem found, not just the first."""

    def __init__(self, errors: list[RuleFileError]) -> None:
        self.errors = errors
        lines = [f"{len(errors)} problem(s) in the rule set:"] + [f"  {e}" for e in errors]
        super().__init__("\n".join(lines))
