"""Helpers shared by sub-commands: the MAP MODEL arguments, the ``--json`` option, a JSON writer
for numpy values and the terminal progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qscore import defaults
from qscore.errors import ParameterError
from qscore.io.jsondoc import json_text


def add_map_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the positional ``MAP`` and ``MODEL`` file arguments."""
    parser.add_argument("map", metavar="MAP", help="density map (.mrc .map .ccp4 .mrcs, or .gz)")
    parser.add_argument("model", metavar="MODEL", help="atomic model (.pdb .cif .ent, or .gz)")


def add_sigma_and_mode_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--sigma`` and ``--mode``, the engine's parameters."""
    parser.add_argument(
        "--sigma",
        type=float,
        default=defaults.SIGMA,
        help=f"width of the reference Gaussian in Å (default {defaults.SIGMA}, as EMDB)",
    )
    parser.add_argument(
        "--mode",
        choices=defaults.MODES,
        default=defaults.MODE,
        help="direct: MapQ's single-process sampling (default); mapq-multiprocess: MapQ's "
        "voxel-aligned resampling, as in EMDB's multi-process runs",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json FILE`` (``-`` writes to standard output)."""
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write the results as JSON to FILE ('-' for standard output, text is then omitted)",
    )


def progress_bar(unit: str = "it", *, leave: bool = False, stage_in_postfix: bool = False):
    """A tqdm bar and its ``(done, total, stage)`` callback on an interactive terminal, ``(None,
    None)`` when output is piped. The stage is the bar's description, or its postfix."""
    if not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, file=sys.stderr, leave=leave)

    def update(done: int, total: int, stage: str) -> None:
        bar.total = total
        if stage_in_postfix:
            bar.set_postfix_str(stage, refresh=False)
        else:
            bar.set_description(stage)
        bar.update(done - bar.n)

    return bar, update


def write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON to ``path``, or to standard output when ``path`` is ``-``."""
    text = json_text(obj) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def emit(doc: dict[str, Any], json_path: str | None, text: Callable[[dict[str, Any]], str]) -> None:
    """Write ``doc`` as JSON when ``--json`` asks for it, then print ``text(doc)`` unless the JSON
    goes to standard output."""
    if json_path:
        write_json(doc, json_path)
    if json_path != "-":
        print(text(doc))


def check_outputs(outputs: dict[str, str | None], inputs: Sequence[str]) -> None:
    """Refuse, before any work is done, output files that cannot be written as asked.

    Parameters
    ----------
    outputs : dict
        Option name (e.g. ``--pdb``) to the requested path; None and ``-`` are skipped.
    inputs : sequence of str
        Input files that no output may overwrite.

    Raises
    ------
    ParameterError
        An output names an input file, another output, a folder, a missing folder or a place
        that cannot be written.
    """
    protected = {_resolved(Path(p)) for p in inputs if p}
    claimed: dict[Path, str] = {}
    for option, value in outputs.items():
        if not value or value == "-":
            continue
        path = Path(value).expanduser()
        where = _resolved(path)
        if where in protected:
            raise ParameterError(
                f"{option} {value} is one of the input files; writing it would destroy that "
                "input. Choose another file name."
            )
        if where in claimed:
            raise ParameterError(
                f"{claimed[where]} and {option} both name {value}; give each output its own file."
            )
        claimed[where] = option
        if path.is_dir():
            raise ParameterError(f"{option} {value} is a folder; give a file name to write.")
        folder = path.parent
        if not folder.is_dir():
            raise ParameterError(
                f"{option} {value} cannot be written: the folder {folder} does not exist."
            )
        target = path if path.exists() else folder
        if not os.access(target, os.W_OK):
            raise ParameterError(f"{option} {value} cannot be written: permission denied.")


def _resolved(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):
        return path.expanduser().absolute()
