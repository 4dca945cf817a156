"""Typed errors that carry a sentence a structural biologist can act on.

Every face (CLI, dashboard, batch) shows ``str(error)`` as it is, so messages are full sentences
that say what is wrong with which input and what to do about it.
"""

from __future__ import annotations


class QscoreError(Exception):
    """Base class of every error the library raises on purpose."""


class MapFormatError(QscoreError):
    """The map file cannot be read as an MRC/CCP4 density map."""


class ModelFormatError(QscoreError):
    """The model file cannot be read as a PDB or mmCIF atomic model."""


class EmptyModelError(ModelFormatError):
    """The model holds no atoms that can be scored."""


class NoOverlapError(QscoreError):
    """The model and the map do not overlap (wrong map, wrong model or shifted origin)."""


class MapContentError(QscoreError):
    """The map values cannot support a score (constant map, all NaN, ...)."""


class ParameterError(QscoreError, ValueError):
    """A parameter is outside its valid range (sigma <= 0, resolution <= 0, ...)."""


class EngineError(QscoreError):
    """The scoring engine asked for is unknown or cannot run here (no compiled kernel)."""


class ReferenceTableError(QscoreError):
    """The EMDB reference table is missing or malformed."""


class DenseModelError(QscoreError):
    """The atoms are packed far more densely than in any molecule (nm coordinates, stacked copies)."""


class KernelMissingError(QscoreError):
    """The compiled kernel was not built when the package was installed (no C compiler)."""
