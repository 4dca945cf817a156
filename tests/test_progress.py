"""The throttled progress callback: few updates, but never a lost stage or a lost end."""

from __future__ import annotations

from qscore.progress import throttled


def test_throttled_passes_stage_changes_and_the_end_but_not_every_step():
    seen: list[tuple[int, int, str]] = []
    now = [0.0]
    report = throttled(lambda *update: seen.append(update), interval=0.25, clock=lambda: now[0])
    steps = [
        (0.00, 0, 10, "scoring atoms"),
        (0.10, 1, 10, "scoring atoms"),
        (0.20, 2, 10, "scoring atoms"),
        (0.26, 3, 10, "scoring atoms"),
        (0.27, 0, 1, "reading"),
        (0.28, 9, 10, "scoring atoms"),
        (0.29, 10, 10, "scoring atoms"),
        (0.30, 0, 0, "done"),
    ]
    for time, done, total, stage in steps:
        now[0] = time
        report(done, total, stage)
    assert seen == [
        (0, 10, "scoring atoms"),
        (3, 10, "scoring atoms"),
        (0, 1, "reading"),
        (9, 10, "scoring atoms"),
        (10, 10, "scoring atoms"),
        (0, 0, "done"),
    ]


def test_throttled_keeps_one_update_per_interval_over_many_steps():
    seen: list[int] = []
    now = [0.0]
    report = throttled(
        lambda done, total, stage: seen.append(done), interval=0.25, clock=lambda: now[0]
    )
    for step in range(1001):
        now[0] = step / 1000
        report(step, 1000, "scoring atoms")
    assert seen == [0, 250, 500, 750, 1000]
