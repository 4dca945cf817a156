"""Hand-off to UCSF ChimeraX: an attribute file (``.defattr``) with the Q-scores and a command
script (``.cxc``) that opens the model and map, colours by Q on the dashboard's scale and centres
on one residue.

Formats, as ChimeraX documents them:

* ``.defattr``: control lines ``name: value`` (``attribute``, ``recipient``, ``match mode``),
  then assignment lines ``<tab>atom-spec<tab>value``. A file may hold several attributes; each
  ``attribute:`` line starts a new block. Opened with ``open file.defattr``.
* ``.cxc``: one ChimeraX command per line, ``#`` comments. ChimeraX runs it with the working
  folder set to the script's folder, so file names relative to the script work.
* ``color byattribute r:qscore … palette v1,c1:v2,c2:v3,c3 noValueColor c`` colours by a
  residue attribute (prefix ``r:``; ``a:`` for atoms); values outside the palette's range take
  the end colours, as the dashboard's scale does.
* ``volume #2 style mesh level L``, ``volume zone #2 nearAtoms SPEC range R``, ``view SPEC``.

Attribute names: ``qscore`` on residues (mean Q over the residue's scored atoms) and on atoms.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qscore.errors import QscoreError
from qscore.io.models import AtomModel

RESIDUE_ATTRIBUTE = "qscore"
ATOM_ATTRIBUTE = "qscore"
MODEL_ID = "#1"
MAP_ID = "#2"
#: Colours of the dashboard's scale (red at Q ≤ 0, white at Q_peak / 2, blue at Q_peak).
RED, WHITE, BLUE, GREY = "#d73027", "#f7f7f7", "#2166ac", "#b0b0b0"
MESH_COLOUR = "#3a9d48"
ZONE_RANGE = 6.0


class ChimeraXError(QscoreError):
    """The ChimeraX files cannot be written as asked."""


def residue_spec(chain: str, resseq: int, icode: str = "") -> str:
    """ChimeraX specification of one residue, e.g. ``/A:45`` or ``/B:100A``."""
    chain = str(chain).strip()
    _check_spec_part(chain, "chain ID")
    _check_spec_part(str(icode or ""), "insertion code")
    return f"/{chain}:{int(resseq)}{str(icode or '').strip()}"


def _check_spec_part(text: str, what: str) -> None:
    if any(c.isspace() or c in "#/:@;,\"'" for c in text):
        raise ChimeraXError(f"The {what} {text!r} cannot be written as a ChimeraX specification.")


def _value(q: float) -> str:
    return f"{q:.4f}" if math.isfinite(q) else "None"


def defattr_text(
    model: AtomModel,
    atom_q: np.ndarray,
    residue_q: np.ndarray,
    *,
    atoms: bool = True,
    source: str = "",
) -> str:
    """Attribute assignment file with residue (and atom) Q-scores.

    Parameters
    ----------
    model : AtomModel
        The scored model.
    atom_q : numpy.ndarray
        Q of every atom (NaN for hydrogens and unscored atoms).
    residue_q : numpy.ndarray
        Mean Q of every residue, aligned with ``model.residues``.
    atoms : bool
        Also assign the per-atom attribute.
    source : str
        A line of provenance written as a comment.

    Returns
    -------
    str
        The file's text. Residues or atoms without a finite Q get no line, so ChimeraX treats
        them as having no value.

    Raises
    ------
    ChimeraXError
        When a chain ID or insertion code cannot be written as a specification.
    """
    table = model.residues
    residue_q = np.asarray(residue_q, dtype=float)
    source = " ".join(str(source).split())
    lines = ["# Q-scores from qscore" + (f": {source}" if source else "")]
    lines += [f"attribute: {RESIDUE_ATTRIBUTE}", "recipient: residues", "match mode: any"]
    specs = [
        residue_spec(c, r, i)
        for c, r, i in zip(table["chain"], table["resseq"], table["icode"], strict=True)
    ]
    lines.extend(
        f"\t{spec}\t{_value(q)}"
        for spec, q in zip(specs, residue_q, strict=True)
        if math.isfinite(q)
    )
    if atoms:
        atom_q = np.asarray(atom_q, dtype=float)
        scored = np.flatnonzero(model.heavy & np.isfinite(atom_q))
        seen: set[str] = set()
        block = [f"attribute: {ATOM_ATTRIBUTE}", "recipient: atoms", "match mode: any"]
        for i in scored:
            name = str(model.name[i]).strip()
            if not name or any(c.isspace() or c in "#/:@;," for c in name):
                continue
            spec = f"{specs[model.residue_index[i]]}@{name}"
            if spec in seen:
                continue
            seen.add(spec)
            block.append(f"\t{spec}\t{_value(float(atom_q[i]))}")
        if len(block) > 3:
            lines.extend(block)
    return "\n".join(lines) + "\n"


def _quoted(path: str) -> str:
    if '"' in path or "\n" in path:
        raise ChimeraXError(f"The file name {path!r} cannot be written into a ChimeraX script.")
    return f'"{path}"'


def palette(q_peak: float) -> str:
    """The dashboard's colour scale as a ChimeraX palette: value,colour pairs."""
    if not (math.isfinite(q_peak) and q_peak > 0):
        raise ChimeraXError(f"The top of the colour scale must be a positive Q (got {q_peak}).")
    return f"0,{RED}:{q_peak / 2:.4f},{WHITE}:{q_peak:.4f},{BLUE}"


def cxc_text(
    model_file: str,
    map_file: str,
    defattr_file: str,
    q_peak: float,
    *,
    focus: str | None = None,
    level: float | None = None,
    notes: Iterable[str] = (),
) -> str:
    """A ChimeraX command script for the hand-off.

    Parameters
    ----------
    model_file, map_file, defattr_file : str
        Paths as the script should open them (relative to the script's folder, or absolute).
    q_peak : float
        Q at which the colour scale is fully blue (the dashboard's top).
    focus : str, optional
        ChimeraX specification of the residue to centre on (see :func:`residue_spec`); its
        atoms are shown as sticks and the map is zoned around it.
    level : float, optional
        Contour level in map units (the dashboard's default for the focus residue).
    notes : iterable of str
        Comment lines written at the top.

    Returns
    -------
    str
        The script. It starts with ``close session``: model #1 is the model, #2 the map.
    """
    lines = ["# ChimeraX command script written by qscore: open with  open this_file.cxc"]
    lines += ["# " + " ".join(str(n).split()) for n in notes]
    lines += [
        "# Starts a new session: the model becomes #1 and the map #2.",
        "close session",
        f"open {_quoted(model_file)}",
        f"open {_quoted(map_file)}",
        f"open {_quoted(defattr_file)}",
        f"color byattribute r:{RESIDUE_ATTRIBUTE} {MODEL_ID} target acr "
        f"palette {palette(q_peak)} noValueColor {GREY}",
        "hide #1 atoms",
        "cartoon #1",
    ]
    style = f"volume {MAP_ID} style mesh color {MESH_COLOUR}"
    if level is not None:
        if not math.isfinite(level):
            raise ChimeraXError(f"The contour level must be a finite number (got {level}).")
        style += f" level {level:.6g}"
    lines.append(style)
    if focus:
        lines += [
            f"show {MODEL_ID}{focus} atoms",
            f"style {MODEL_ID}{focus} stick",
            f"color byattribute a:{ATOM_ATTRIBUTE} {MODEL_ID}{focus} target a "
            f"palette {palette(q_peak)} noValueColor {GREY}",
            f"volume zone {MAP_ID} nearAtoms {MODEL_ID}{focus} range {ZONE_RANGE:g}",
            f"view {MODEL_ID}{focus}",
        ]
    else:
        lines.append("view")
    return "\n".join(lines) + "\n"


def relative_path(target: str | os.PathLike, script: str | os.PathLike) -> str:
    """``target`` relative to the folder of ``script`` when possible, else absolute."""
    target, folder = Path(target).resolve(), Path(script).resolve().parent
    try:
        return os.path.relpath(target, folder)
    except ValueError:
        return str(target)


def write_chimerax(
    path: str | os.PathLike,
    model: AtomModel,
    atom_q: np.ndarray,
    residue_q: np.ndarray,
    q_peak: float,
    *,
    model_file: str | os.PathLike,
    map_file: str | os.PathLike,
    focus: str | None = None,
    level: float | None = None,
    notes: Iterable[str] = (),
) -> tuple[Path, Path]:
    """Write ``path`` (the ``.cxc``) and the ``.defattr`` beside it; return both paths.

    The script opens the model and map by their paths relative to the script's folder.
    """
    script = Path(path)
    if script.suffix.lower() != ".cxc":
        script = script.with_name(script.name + ".cxc")
    attributes = script.with_suffix(".defattr")
    attributes.write_text(defattr_text(model, atom_q, residue_q, source=str(model.source)))
    script.write_text(
        cxc_text(
            relative_path(model_file, script),
            relative_path(map_file, script),
            attributes.name,
            q_peak,
            focus=focus,
            level=level,
            notes=notes,
        )
    )
    return script, attributes
