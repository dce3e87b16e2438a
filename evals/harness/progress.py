"""Rich progress bars on stderr, one per suite (stdout stays clean for `--json`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from evals.harness.registry import Advance


class SuiteProgress:
    """One bar per suite: determinate when the suite knows its item count, a pulse until then."""

    def __init__(self, progress: object | None) -> None:
        self._progress = progress
        self._tasks: dict[str, object] = {}

    def start(self, suite: str) -> Advance:
        if self._progress is None:
            return lambda done, total: None
        task = self._progress.add_task(suite, total=None)
        self._tasks[suite] = task

        def advance(done: int, total: int | None) -> None:
            self._progress.update(task, completed=done, total=total)

        return advance

    def finish(self, suite: str, status: str) -> None:
        if self._progress is None:
            return
        task = self._tasks[suite]
        total = next(t.total for t in self._progress.tasks if t.id == task) or 1
        label = suite if status == "ok" else f"{suite} ({status.replace('_', ' ')})"
        self._progress.update(task, description=label, total=total, completed=total)


@contextmanager
def suite_progress(enabled: bool) -> Iterator[SuiteProgress]:
    if not enabled:
        yield SuiteProgress(None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield SuiteProgress(progress)
