"""Parameter checks shared by every function that takes a resolution or another length in Å.

Each check returns the value as a float (or a float array) and raises
:class:`qscore.errors.ParameterError` with one sentence otherwise, so that the command line and
the dashboard can show the message as it is.
"""

from __future__ import annotations

import math

import numpy as np

from qscore.errors import ParameterError

__all__ = ["check_positive", "check_resolution", "check_resolutions"]


def check_positive(value: float, what: str, *, unit: str = "Å") -> float:
    """``value`` as a float when it is a finite positive number.

    Parameters
    ----------
    value : float
        The number to check (anything ``float()`` accepts).
    what : str
        What the number is, starting a sentence (e.g. ``"The resolution window"``).
    unit : str, optional
        The unit named in the message.

    Returns
    -------
    float
        The value.

    Raises
    ------
    ParameterError
        When the value is not a number, not finite or not above zero.

    Examples
    --------
    >>> check_positive("2.5", "The resolution")
    2.5
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be a number of {unit}; got {value!r}.") from None
    if not math.isfinite(number) or number <= 0:
        raise ParameterError(f"{what} must be a positive number of {unit}; got {number:g}.")
    return number


def check_resolution(resolution: float) -> float:
    """The map's resolution (Å) as a float; :class:`ParameterError` unless positive.

    Parameters
    ----------
    resolution : float
        The reported resolution in Å.

    Returns
    -------
    float
        The resolution.

    Raises
    ------
    ParameterError
        When it is not a finite positive number.
    """
    return check_positive(resolution, "The resolution")


def check_resolutions(resolutions: np.ndarray | float) -> np.ndarray:
    """Resolutions (Å) as a float array of the same shape; every one must be positive.

    Parameters
    ----------
    resolutions : array_like
        One or more resolutions in Å.

    Returns
    -------
    numpy.ndarray
        The values as float64.

    Raises
    ------
    ParameterError
        When any value is not a finite positive number.
    """
    values = np.asarray(resolutions, dtype=float)
    if np.any(~np.isfinite(values) | (values <= 0)):
        raise ParameterError("Every resolution must be a positive number of Å.")
    return values
