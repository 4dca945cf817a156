"""Helpers shared by sub-commands: the ``--json`` option and a JSON writer for numpy values."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json FILE`` (``-`` writes to standard output)."""
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write the results as JSON to FILE ('-' for standard output, text is then omitted)",
    )


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
