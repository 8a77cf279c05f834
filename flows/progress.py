"""Progress of long stages on a terminal: shown while ``getihu run`` runs, silent everywhere else.

Stages report through :func:`stage_status` and :func:`tracked` without knowing whether anybody watches:
the CLI turns the display on with :func:`shown_on`; tests, benchmarks and served deployments leave it off.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

T = TypeVar("T")

_shown: Progress | None = None


class _Mark(SpinnerColumn):
    """A spinner while a stage runs, a tick when it is done, a red cross when it stopped."""

    def render(self, task: Task) -> Text:
        if task.fields.get("stopped"):
            return Text("✗", style="red")
        return super().render(task)


@contextmanager
def shown_on(console: Console) -> Iterator[None]:
    """Show the progress of the stages run inside the ``with`` block on ``console``."""
    global _shown
    progress = Progress(
        _Mark(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        _shown = progress
        try:
            yield
        finally:
            _shown = None


@contextmanager
def stage_status(name: str) -> Iterator[None]:
    """One line for a stage while it runs: a spinner and the time it has taken; a tick when it is done."""
    if _shown is None:
        yield
        return
    line = _shown.add_task(name, total=None)
    try:
        yield
    except BaseException:  # the line ends, finished, with a cross: never left at "0/?"
        _shown.update(line, description=f"[red]{name} 已停止[/]", total=1, completed=1, stopped=True)
        _shown.stop_task(line)
        raise
    _shown.update(line, total=1, completed=1)


def tracked(items: Sequence[T], description: str) -> Iterator[T]:
    """``items`` one by one, advancing a bar under the running stage when progress is shown."""
    if _shown is None:
        yield from items
        return
    shown = _shown  # ingest consumes its files on a reading thread, which may outlive the display
    bar = shown.add_task(f"  {description}", total=len(items))
    try:
        for item in items:
            yield item
            shown.advance(bar)
    finally:
        shown.remove_task(bar)
