"""Errors a user gets as one paragraph, never as a traceback: the CLI prints ``str(error)`` and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class PipelineStop(Exception):
    """The run stops before anything is published; the message says why and what was expected."""


class InputError(PipelineStop):
    """A delivered file (or the inbox configuration) cannot be used at all."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class QuarantineThresholdError(PipelineStop):
    """One or more sources had a larger share of quarantined rows than the cycle allows."""


class ConfigurationError(PipelineStop):
    """The run was started wrongly: a missing secret, options that contradict each other."""
