"""Helpers shared by sub-commands: the MAP MODEL arguments, the ``--json`` option, a JSON writer
for numpy values and the terminal progress bar."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qscore.io.jsondoc import json_text


def add_map_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the positional ``MAP`` and ``MODEL`` file arguments."""
    parser.add_argument("map", metavar="MAP", help="density map (.mrc .map .ccp4 .mrcs, or .gz)")
    parser.add_argument("model", metavar="MODEL", help="atomic model (.pdb .cif .ent, or .gz)")


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
