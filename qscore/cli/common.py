"""Helpers shared by sub-commands: the MAP MODEL arguments, the ``--json`` option, a JSON writer
for numpy values and the terminal progress bar."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qscore import defaults


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


def _plain(obj: Any) -> Any:
    """Turn numpy scalars/arrays, tuples and non-finite floats into JSON-ready values."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` as indented JSON to ``path``, or to standard output when ``path`` is ``-``."""
    text = json.dumps(_plain(obj), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
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
