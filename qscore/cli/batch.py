"""``qscore batch MANIFEST.csv --out DIR``: score many map/model pairs on a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qscore import defaults
from qscore.cli.common import progress_bar

#: Failed entries listed by name in the closing tally.
SHOWN_FAILURES = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``batch`` sub-command."""
    parser = subparsers.add_parser(
        "batch",
        help="score many map/model pairs on a Dask cluster",
        description=(
            "Score every entry of MANIFEST (CSV with columns id, map, model, resolution and "
            "optionally sigma; relative paths are read from the manifest's folder) on a Dask "
            "cluster. Results are written under DIR as each entry finishes; running the command "
            "again resumes and skips finished entries. See docs/cli-batch.md."
        ),
    )
    parser.add_argument("manifest", metavar="MANIFEST", help="manifest CSV")
    parser.add_argument("--out", required=True, metavar="DIR", help="results folder")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (default: start a local cluster)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of the local cluster (default: one per CPU); with --scheduler, "
        "wait until N workers are connected",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        default=defaults.SIGMA,
        help=f"width of the reference Gaussian in Å for entries without a sigma column value "
        f"(default {defaults.SIGMA})",
    )
    parser.add_argument("--mode", choices=defaults.MODES, default=defaults.MODE)
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="score entries that failed in an earlier run again (default: keep them as failed)",
    )
    parser.set_defaults(func=run)


def tally_text(frame, out: Path) -> str:
    """The closing lines: counts, where the results are, and the failed entries' sentences."""
    ok = int((frame["status"] == "ok").sum())
    failed = frame[frame["status"] != "ok"]
    lines = [
        f"{len(frame)} entries: {ok} ok, {len(failed)} failed. "
        f"Summary: {out / 'summary.parquet'} and {out / 'summary.csv'}"
    ]
    for row in failed.head(SHOWN_FAILURES).itertuples():
        lines.append(f"  {row.id}: {row.error}")
    if len(failed) > SHOWN_FAILURES:
        lines.append(f"  … and {len(failed) - SHOWN_FAILURES} more (see the summary)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the batch, print the tally; exit code 1 when any entry failed."""
    from qscore.batch.runner import connect, run_batch

    out = Path(args.out)
    bar, progress = progress_bar("entry", leave=True, stage_in_postfix=True)
    client = None
    try:
        if args.scheduler:
            client = connect(args.scheduler)
        frame = run_batch(
            args.manifest,
            out,
            client=client,
            workers=args.workers,
            sigma=args.sigma,
            mode=args.mode,
            progress=progress,
            retry_failed=args.retry_failed,
        )
    except KeyboardInterrupt:
        print(
            f"Stopped; finished entries are kept in {out} and a new run resumes from there.",
            file=sys.stderr,
        )
        raise
    finally:
        if bar is not None:
            bar.close()
        if client is not None:
            client.close()
    print(tally_text(frame, out))
    return 0 if (frame["status"] == "ok").all() else 1
