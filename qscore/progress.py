"""The progress callback every long-running function accepts."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Progress", "throttled"]

#: ``progress(done, total, stage)``: called as work advances; ``stage`` names the current step
#: in words a user can read (e.g. "Scoring atoms").
Progress = Callable[[int, int, str], None]


def throttled(
    progress: Progress, *, interval: float = 0.25, clock: Callable[[], float] = time.monotonic
) -> Progress:
    """``progress`` called at most once per ``interval`` seconds, except when the stage
    changes or the work is done, which always pass.

    For displays that redraw on every update (a browser page, a terminal bar): the work then
    never waits on the display, however fine-grained its updates.

    Parameters
    ----------
    progress : callable
        The callback to pass updates on to.
    interval : float, optional
        Least time (s) between two updates of the same stage.
    clock : callable, optional
        Seconds on a monotonic clock.
    """
    last_stage: list[str | None] = [None]
    last_time = [0.0]

    def report(done: int, total: int, stage: str) -> None:
        now = clock()
        finished = total > 0 and done >= total
        if stage == last_stage[0] and not finished and now - last_time[0] < interval:
            return
        last_stage[0], last_time[0] = stage, now
        progress(done, total, stage)

    return report
