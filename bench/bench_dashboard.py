"""Load test of the dashboard: many browser sessions upload and score at once.

Starts the real server (``streamlit run serve.py``, as ``make run``) with its own upload folder,
opens ``--sessions`` headless Chromium sessions (Debian's ``/usr/bin/chromium``), gives each
its own map (the EMD-30342 map zero-padded to ``--map-mb``, a different marker voxel each, so
no two uploads are the same file) and the 7cec chain A model, uploads them all at once and waits
for every session's overview. Prints, per session, the time from its upload to its overview,
and for the server its memory (resident set size) at rest, at peak and after every session
closed, and the CPU time it used. Each session must show its own map and model Q 0.376.

``--compare`` runs the same load against ``streamlit run app.py`` (Streamlit's own upload
handling, which keeps every upload in memory) and prints the ratio of peak memory.

    .venv/bin/python bench/bench_dashboard.py --sessions 10 --map-mb 300
    .venv/bin/python bench/bench_dashboard.py --sessions 3 --map-mb 300 --compare
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.big_maps import padded_copy  # noqa: E402
from tests.browser_support import (  # noqa: E402
    MAP,
    MODEL,
    Dashboard,
    browser_skip_reason,
    launch_chromium,
    score_in_parallel,
)

WORK = ROOT / "bench" / ".work" / "dashboard"
MB = 1024 * 1024
TTL = 5


def run(entry: str, maps: list[Path], uploads: Path) -> dict:
    """One load run against ``entry``; returns timings and memory figures."""
    import psutil
    from playwright.sync_api import sync_playwright

    options = {"server.disconnectedSessionTTL": str(TTL)}
    with Dashboard(uploads, options=options, entry=entry) as server, sync_playwright() as pw:
        process = psutil.Process(server.process.pid)
        browser = launch_chromium(pw)
        warm_up = browser.new_page()
        warm_up.goto(server.url)
        warm_up.wait_for_selector("text=Built-in example", timeout=600_000)
        warm_up.close()
        time.sleep(TTL + 15)
        rest = server.rss()
        cpu = sum(process.cpu_times()[:2])
        server.watch_peak()
        began = time.perf_counter()
        runs = score_in_parallel(browser, server.url, maps, MODEL)
        browser.close()
        wall = time.perf_counter() - began
        peak = server.peak()
        time.sleep(TTL + 25)  # sessions gone, sweep done
        after = server.rss()
        cpu = sum(process.cpu_times()[:2]) - cpu
    for session in runs:
        if "model Q 0.376" not in session.header or session.map_name not in session.header:
            raise SystemExit(
                f"session {session.map_name} shows someone else's result: {session.header}"
            )
    return {
        "entry": entry,
        "runs": runs,
        "rest": rest,
        "peak": peak,
        "after": after,
        "cpu": cpu,
        "wall": wall,
    }


def report(result: dict) -> str:
    lines = [
        f"### `streamlit run {result['entry']}`: {len(result['runs'])} sessions",
        "",
        "| session | map | time to overview (s) |",
        "|---|---|---|",
    ]
    for index, session in enumerate(result["runs"], 1):
        lines.append(f"| {index} | {session.map_name} | {session.seconds:.1f} |")
    times = sorted(s.seconds for s in result["runs"])
    lines += [
        "",
        f"median {times[len(times) // 2]:.1f} s, slowest {times[-1]:.1f} s, all done in "
        f"{result['wall']:.1f} s; server memory at rest (app loaded, example shown once) {result['rest'] / MB:.0f} MB, "
        f"peak {result['peak'] / MB:.0f} MB, {result['after'] / MB:.0f} MB after every session "
        f"closed; server CPU {result['cpu']:.1f} s",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--map-mb", type=float, default=300.0)
    parser.add_argument("--compare", action="store_true", help="also run streamlit run app.py")
    args = parser.parse_args(argv)
    reason = browser_skip_reason()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    maps = [
        padded_copy(
            MAP, WORK / f"map_{args.map_mb:g}mb_{k}.mrc", int(args.map_mb * 1e6), marker=k / 1000
        )
        for k in range(args.sessions)
    ]
    results = [run("serve.py", maps, WORK / "uploads-serve")]
    if args.compare:
        results.append(run("app.py", maps, WORK / "uploads-app"))
    text = "\n".join(report(r) for r in results)
    if args.compare:
        ratio = (results[1]["peak"] - results[1]["rest"]) / max(
            results[0]["peak"] - results[0]["rest"], 1
        )
        text += f"\nPeak memory added by the load: app.py / serve.py = {ratio:.1f}×\n"
    print(text)
    (WORK / "results.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
