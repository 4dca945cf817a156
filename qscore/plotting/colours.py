"""Element colours (Jmol's CPK scheme, carbon darkened for white backgrounds), one set for every
figure that draws atoms."""

from __future__ import annotations

__all__ = ["ELEMENT_COLOURS", "OTHER_ELEMENT", "element_colour"]

ELEMENT_COLOURS = {
    "C": "#8c8c8c",
    "N": "#3050f8",
    "O": "#ff0d0d",
    "S": "#d4b000",
    "P": "#ff8000",
    "H": "#dddddd",
}
#: Colour of any element not in :data:`ELEMENT_COLOURS`.
OTHER_ELEMENT = "#b05fc0"


def element_colour(element: str) -> str:
    """The colour of an element symbol (any case).

    Parameters
    ----------
    element : str
        An element symbol such as ``"C"`` or ``"Zn"``.

    Returns
    -------
    str
        A ``#rrggbb`` colour.

    Examples
    --------
    >>> element_colour("n"), element_colour("ZN")
    ('#3050f8', '#b05fc0')
    """
    return ELEMENT_COLOURS.get(str(element).upper(), OTHER_ELEMENT)
