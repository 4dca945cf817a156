"""The progress callback every long-running function accepts."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress"]

#: ``progress(done, total, stage)``: called as work advances; ``stage`` names the current step
#: in words a user can read (e.g. "Scoring atoms").
Progress = Callable[[int, int, str], None]
