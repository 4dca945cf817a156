"""JSON documents: NumPy values, tuples and non-finite floats turned into plain JSON values.

Light on purpose (NumPy only), so that every command can write JSON without loading the engine.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def json_ready(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays, tuples and non-finite floats (as None) replaced by
    plain JSON values; dict keys become strings.

    Parameters
    ----------
    obj : Any
        A dict, list, tuple, array or scalar, nested in any way.

    Returns
    -------
    Any
        The same structure of dicts, lists, strings, ints, floats, bools and None.
    """
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_text(obj: Any, *, indent: int | None = 2) -> str:
    """``obj`` as JSON text (UTF-8 characters kept, no NaN), via :func:`json_ready`; with
    ``indent=None`` on one line without spaces."""
    separators = (",", ":") if indent is None else None
    return json.dumps(
        json_ready(obj), indent=indent, separators=separators, allow_nan=False, ensure_ascii=False
    )
