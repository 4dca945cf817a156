"""ctypes bindings of the compiled kernel (``qscore/engine/_kernel.c``), with NumPy-checked arguments."""

from __future__ import annotations

import ctypes
import os

import numpy as np

from qscore.errors import QscoreError

_F64 = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
_F32 = np.ctypeslib.ndpointer(dtype=np.float32, flags="C_CONTIGUOUS")
_I64 = np.ctypeslib.ndpointer(dtype=np.int64, flags="C_CONTIGUOUS")
_i64 = ctypes.c_int64
_int = ctypes.c_int
_dbl = ctypes.c_double

_SIGNATURES = {
    "qs_neighbour_counts": (_i64, [_i64, _F64, _i64, _F64, _dbl, _int, _I64]),
    "qs_neighbour_lists": (_int, [_i64, _F64, _i64, _F64, _dbl, _int, _I64, _I64, _F64]),
    "qs_sample": (None, [_i64, _F64, _F32, _i64, _i64, _i64, _F64, _F64, _F64, _int, _F64]),
    "qs_score": (
        _int,
        [_i64, _F64, _F64, _F64, _int, _I64, _I64, _F64, _F32, _i64, _i64, _i64, _F64, _F64]
        + [_F64, _i64, _F64, _F64, _F64, _I64, _i64, _int, _F64],
    ),
    "qs_shell_points": (
        _i64,
        [_F64, _dbl, _F64, _F64, _int, _I64, _F64, _i64, _F64, _I64, _i64, _F64],
    ),
    "qs_splat": (None, [_F32, _i64, _i64, _i64, _F64, _F64, _i64, _F64, _F64, _dbl, _dbl]),
    "qs_max_threads": (_int, []),
}


def _load() -> ctypes.CDLL:
    """The shared library built next to this package by ``pip install``."""
    try:
        from qscore.engine import _kernel
    except ImportError as exc:
        raise QscoreError(
            "The compiled kernel of qscore is missing; reinstall the package "
            "(`pip install -e .` needs a C compiler with OpenMP)."
        ) from exc
    lib = ctypes.CDLL(os.fspath(_kernel.__file__))
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


lib = _load()


def default_threads() -> int:
    """Threads to use: ``QSCORE_THREADS`` if set, else OpenMP's default (the machine's cores)."""
    value = os.environ.get("QSCORE_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, int(lib.qs_max_threads()))
