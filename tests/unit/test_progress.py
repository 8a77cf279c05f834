"""Progress of long stages: a line per stage, a bar per long loop, nothing at all when nobody watches."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from flows import progress
from flows.progress import shown_on, stage_status, tracked


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100, force_terminal=False), out


def test_without_a_display_tracked_yields_the_items_and_shows_nothing():
    assert list(tracked(["a", "b"], "files read")) == ["a", "b"]
    with stage_status("ingest"):
        pass


def test_the_bar_counts_the_items_taken_and_goes_away_when_they_are_done():
    console, _ = _console()
    with shown_on(console):
        seen = []
        for i, item in enumerate(tracked(["a", "b", "c"], "files read")):
            (bar,) = [t for t in progress._shown.tasks if t.description == "  files read"]
            seen.append((item, bar.completed, bar.total))
            assert bar.completed == i
        assert seen == [("a", 0, 3), ("b", 1, 3), ("c", 2, 3)]
        assert not [t for t in progress._shown.tasks if t.description == "  files read"]


def test_a_bar_left_early_by_a_failing_stage_is_removed():
    console, _ = _console()
    with shown_on(console):
        with pytest.raises(ValueError):
            for _ in tracked(["a", "b"], "files read"):
                raise ValueError("unreadable file")
        assert [t.description for t in progress._shown.tasks] == []


def test_each_stage_ends_with_a_tick_or_as_failed():
    console, out = _console()
    with shown_on(console):
        with stage_status("ingest"):
            pass
        with pytest.raises(RuntimeError), stage_status("validate"):
            raise RuntimeError("disk full")
    shown = out.getvalue()
    assert "✓ ingest" in shown
    assert "✗ validate 已停止" in shown  # the line ends, never left at "0/?" (issue 12, finding 8)
    assert "0/?" not in shown
