"""Browser timings of the dashboard's main flow, on EMD-30342 and on a ~100k-atom model.

Runs the click-to-view browser test (``tests/test_browser_viewer.py``) with the large case
switched on, in Debian's Chromium, and prints what it measured (wall clock, with the load
average at each step): upload → overview, click on a point of the per-residue plot → 3D view
updated, "Next outlier" → 3D view updated.

    .venv/bin/python bench/bench_viewer.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMINGS = REPO / "test-artifacts" / "viewer_timings.json"


def main() -> int:
    TIMINGS.unlink(missing_ok=True)
    env = {**os.environ, "QSCORE_BENCH_LARGE": "1"}
    test = "tests/test_browser_viewer.py::test_click_to_view_timings"
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", test], cwd=REPO, env=env)
    if not TIMINGS.exists():
        print("no timings were recorded")
        return code or 1
    data = json.loads(TIMINGS.read_text())
    print(f"\n{'step':<28}{'emd30342 (4,308 atoms)':>26}{'100k (103,392 atoms)':>26}")
    for step in ("upload_to_overview", "click_to_view", "next_outlier_to_view"):
        cells = []
        for size in ("emd30342", "100k"):
            seconds = data.get(f"{step}_{size}")
            load = data.get(f"{step}_{size}_load_average")
            cells.append("—" if seconds is None else f"{seconds:.2f} s (load {load})")
        print(f"{step:<28}{cells[0]:>26}{cells[1]:>26}")
    for size in ("emd30342", "100k"):
        total, handing = (
            data.get(f"upload_to_overview_{size}"),
            data.get(f"upload_to_overview_{size}_handing_files"),
        )
        if total is not None and handing is not None:
            print(
                f"upload_to_overview {size}: {total:.2f} s, of which {handing:.2f} s Playwright "
                f"handing the files to the browser: {total - handing:.2f} s without it"
            )
    return code


if __name__ == "__main__":
    raise SystemExit(main())
