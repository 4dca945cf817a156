"""ctypes bindings of the compiled kernel (``qscore/engine/_kernel.c``), with NumPy-checked arguments.

The library is loaded on first use, so importing qscore never needs it: :func:`available` says
whether it can be loaded, and :func:`load` returns it (or raises a sentence saying it is missing).
"""

from __future__ import annotations

import ctypes
import functools
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


@functools.cache
def _library() -> ctypes.CDLL | None:
    """The shared library built next to this package by ``pip install``, or None if missing."""
    try:
        from qscore.engine import _kernel

        lib = ctypes.CDLL(os.fspath(_kernel.__file__))
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
    except (ImportError, OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    """Whether the compiled kernel can be loaded.

    Returns
    -------
    bool
        False when the package was installed without building it (no C compiler).
    """
    return _library() is not None


def load() -> ctypes.CDLL:
    """The compiled kernel.

    Returns
    -------
    ctypes.CDLL
        The library, with the argument types of every function set.

    Raises
    ------
    QscoreError
        When the kernel was not built.
    """
    lib = _library()
    if lib is None:
        raise QscoreError(
            "The compiled kernel of qscore is missing; reinstall the package "
            "(`pip install -e .` needs a C compiler with OpenMP) or set QSCORE_ENGINE=numpy."
        )
    return lib


def default_threads() -> int:
    """Threads to use: ``QSCORE_THREADS`` if set, else OpenMP's default (the machine's cores).

    Returns
    -------
    int
        At least 1; 1 when the compiled kernel is not available.
    """
    value = os.environ.get("QSCORE_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, int(load().qs_max_threads())) if available() else 1
