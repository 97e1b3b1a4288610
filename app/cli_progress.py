"""A progress bar for long commands (``click.progressbar``), fed like a job's progress.

On a terminal it draws "Label  [#####-----]  1200/4000  40%  Writing the PDF"; elsewhere
(cron, a pipe, the tests) click prints only the label, once.
"""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Any, TextIO

import click


class TerminalProgress:
    """A :class:`surveys.jobs.StepProgress` that draws a progress bar; use it in ``with``.

    The bar appears at the first call that knows the total; ``message`` is shown after it.
    """

    def __init__(self, label: str, file: TextIO | None = None) -> None:
        self.label = label
        self.file = file
        self._stack = ExitStack()
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stack.close()

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        if self._bar is None:
            if not total:
                return
            self._bar = self._stack.enter_context(
                click.progressbar(
                    length=total,
                    label=self.label,
                    show_pos=True,
                    item_show_func=lambda item: item,
                    file=self.file,
                )
            )
        self._bar.update(max(0, done - self._done), message)
        self._done = max(done, self._done)
