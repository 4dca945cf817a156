"""Entry point of the ``qscore`` command: dispatches to sub-command modules.

Sub-command modules are imported lazily so that ``qscore relative`` does not pay for the engine or
dask. Every :class:`~qscore.errors.QscoreError` becomes its sentence on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from qscore.errors import QscoreError

#: Optional dependencies -> the extra that installs them.
EXTRAS = {
    "dask": "batch",
    "distributed": "batch",
    "pyarrow": "batch",
    "streamlit": "app",
    "plotly": "report",
}

#: sub-command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("qscore.cli.score", "per-atom Q-scores of a model in a map"),
    "relative": ("qscore.cli.relative", "Q_relative_all and Q_relative_resolution of a Q-score"),
    "stats": ("qscore.cli.stats", "archive statistics: polynomial fits, R2, cross-validation"),
    "bfactor": ("qscore.cli.bfactor", "atomic B-factors from Q-scores, CC and CC-mean"),
    "batch": ("qscore.cli.batch", "score many map/model pairs on a Dask cluster"),
    "report": ("qscore.cli.report", "a self-contained HTML report of the map-model fit"),
    "compare": ("qscore.cli.compare", "per-residue Q differences of two models or two maps"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Parser with every sub-command; only the one named in ``argv`` is imported in full."""
    parser = argparse.ArgumentParser(
        prog="qscore",
        description="Q-scores of atomic models in cryo-EM maps (MapQ-exact), with archive context.",
    )
    from qscore import __version__

    parser.add_argument("--version", action="version", version=f"qscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _missing_extra(exc: ModuleNotFoundError, argv: Sequence[str]) -> int:
    """Say which extra installs the module a command needs; re-raise for any other module."""
    root = (exc.name or "").split(".")[0]
    if root not in EXTRAS:
        raise exc
    command = next((a for a in argv if not a.startswith("-")), "")
    print(
        f"qscore {command}: this command needs {root}, which the core package does not "
        f"install; install it with: pip install 'qscore[{EXTRAS[root]}]'",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except ModuleNotFoundError as exc:
        return _missing_extra(exc, argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except QscoreError as exc:
        print(f"qscore {args.command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        return _missing_extra(exc, argv)
    except KeyboardInterrupt:
        print("qscore: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(
            f"qscore {args.command}: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
