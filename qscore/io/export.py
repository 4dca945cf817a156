"""Writers: per-atom and per-residue CSV, mmCIF with ``_atom_site.Q_score``, PDB with Q as B.

The mmCIF writer adds one item to the original ``_atom_site`` loop and keeps every other category
and value of the file as it was read, like MapQ (``Q_score``, 6 decimals, "?" where an atom has no
Q). A file given back (MapQ's output, or one written here, also by versions that used the tag
``Q-score``) has its Q read by :func:`stored_qscores`, and rewriting it replaces the old item.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import gemmi
import numpy as np
import pandas as pd

from qscore.analysis.aggregate import mapq_windows, residue_table
from qscore.errors import ModelFormatError, QscoreError
from qscore.io.models import AtomModel

ATOM_COLUMNS = ("chain", "resseq", "icode", "resname", "atom", "altloc", "element", "x", "y", "z")
#: Name of the per-atom item MapQ writes to ``_atom_site``.
QSCORE_ITEM = "Q_score"
#: Every name the per-atom Q item is read under, the written one first.
QSCORE_ITEMS = (QSCORE_ITEM, "Q-score")


class ExportError(QscoreError):
    """The model cannot be written in the requested format."""


def atoms_frame(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """One row per scored (non-hydrogen) atom in model order, with its Q."""
    frame = model.atoms_frame()[list(ATOM_COLUMNS)]
    frame["q"] = np.asarray(q, dtype=np.float64)
    return frame[model.heavy].reset_index(drop=True)


def residues_frame(model: AtomModel, q: np.ndarray) -> pd.DataFrame:
    """Per-residue table with subset means and MapQ's sliding windows."""
    return mapq_windows(residue_table(model, q))


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """CSV with 6-decimal floats (MapQ's precision)."""
    frame.to_csv(path, index=False, float_format="%.6f")


def mmcif_text(model: AtomModel, q: np.ndarray | None, *, b_iso: np.ndarray | None = None) -> str:
    """The model's mmCIF with ``_atom_site.Q_score`` added after ``B_iso_or_equiv``.

    A Q item the file already carries (``Q_score`` or ``Q-score``) is replaced. With ``q=None``
    no Q item is added; with ``b_iso`` the B-factors of the model's atoms are replaced
    (B-factors from Q-scores).
    """
    text = model.document_text if model.document is None else model.document.as_string()
    if text is None or model.atom_site_rows is None:
        raise ExportError("This model was not read from a file, so it cannot be written back.")
    doc = gemmi.cif.read_string(text)
    block = doc.sole_block() if len(doc) == 1 else doc[0]
    category = block.get_mmcif_category("_atom_site.", raw=True)
    n_rows = len(category["Cartn_x"])
    if b_iso is not None:
        column = np.array(category["B_iso_or_equiv"], dtype=object)
        column[model.atom_site_rows] = [f"{v:.2f}" for v in np.asarray(b_iso, dtype=np.float64)]
        category["B_iso_or_equiv"] = column.tolist()
    updated: dict[str, list] = {k: v for k, v in category.items() if k not in QSCORE_ITEMS}
    if q is not None:
        values = np.full(n_rows, "?", dtype=object)
        q = np.asarray(q, dtype=np.float64)
        ok = np.isfinite(q)
        values[model.atom_site_rows[ok]] = [f"{v:.6f}" for v in q[ok]]
        keys = list(updated)
        at = keys.index("B_iso_or_equiv") + 1 if "B_iso_or_equiv" in keys else len(keys)
        keys.insert(at, QSCORE_ITEM)
        updated[QSCORE_ITEM] = values.tolist()
        updated = {k: updated[k] for k in keys}
    block.set_mmcif_category("_atom_site.", updated, raw=True)
    options = gemmi.cif.WriteOptions()
    options.prefer_pairs = True
    return doc.as_string(options)


def stored_qscores(model: AtomModel) -> np.ndarray | None:
    """Per-atom Q the model's file already carries (``_atom_site.Q_score`` or ``Q-score``).

    Parameters
    ----------
    model : AtomModel
        A model read from an mmCIF file (MapQ's output, or one written by :func:`write_mmcif`).

    Returns
    -------
    numpy.ndarray or None
        Q aligned with the model's atoms (NaN where the file gives "?" or "."), or None when
        the file has no Q item.

    Raises
    ------
    ModelFormatError
        If the Q item holds a value that is not a number.
    """
    document = model.cif_document()
    if document is None or model.atom_site_rows is None:
        return None
    block = document.sole_block() if len(document) == 1 else document[0]
    for item in QSCORE_ITEMS:
        values = block.find_values(f"_atom_site.{item}")
        if not values:
            continue
        text = np.array([gemmi.cif.as_string(v) for v in values], dtype=object)
        text[(text == "?") | (text == ".") | (text == "")] = "nan"
        try:
            q = text.astype(np.float64)
        except ValueError as exc:
            raise ModelFormatError(
                f"{model.source} has a non-numeric value in _atom_site.{item}."
            ) from exc
        return q[model.atom_site_rows]
    return None


def write_mmcif(model: AtomModel, q: np.ndarray, path: str | os.PathLike) -> None:
    """Write :func:`mmcif_text` to ``path``."""
    Path(path).write_text(mmcif_text(model, q))


def pdb_text(model: AtomModel, values: np.ndarray, *, remarks: tuple[str, ...] = ()) -> str:
    """PDB text of the first model with ``values`` in the B-factor column (2 decimals).

    ``values`` is per-atom Q (as MapQ writes it) or new B-factors in Å²; atoms without a value
    keep their original B-factor.
    """
    check_pdb(model)
    values = np.asarray(values, dtype=np.float64)
    column = np.where(np.isfinite(values), values, model.b_iso)
    out = io.StringIO()
    for remark in remarks:
        out.write(f"REMARK   0 {remark}\n")
    polymer = np.isin(model.kind, ["protein", "nucleic"])
    for i in range(model.n_atoms):
        name = str(model.name[i])
        element = str(model.element[i])
        padded = f" {name:<3}" if len(name) < 4 and len(element) == 1 else f"{name:<4}"
        record = "ATOM  " if polymer[i] else "HETATM"
        x, y, z = model.xyz[i]
        out.write(
            f"{record}{i + 1:5d} {padded}{model.altloc[i][:1]:1}{model.resname[i][:3]:>3} "
            f"{model.chain[i]:1}{int(model.resseq[i]):4d}{model.icode[i][:1]:1}   "
            f"{x:8.3f}{y:8.3f}{z:8.3f}{model.occupancy[i]:6.2f}{column[i]:6.2f}          "
            f"{element:>2}\n"
        )
    out.write("END\n")
    return out.getvalue()


def check_pdb(model: AtomModel) -> None:
    """Raise :class:`ExportError` if ``model`` cannot be written in the PDB format.

    Parameters
    ----------
    model : AtomModel
        The model to write.

    Raises
    ------
    ExportError
        More than 99,999 atoms, coordinates beyond the 8-character columns, or chain IDs
        longer than one character.
    """
    if model.n_atoms > 99999:
        raise ExportError(
            f"The model has {model.n_atoms} atoms, more than the PDB format can hold; "
            "use the mmCIF file instead."
        )
    if model.n_atoms and (model.xyz.min() <= -999.9995 or model.xyz.max() >= 9999.9995):
        raise ExportError(
            "The model has coordinates outside −999.999 to 9999.999 Å, which the PDB format's "
            "8-character columns cannot hold; use the mmCIF file instead."
        )
    long_chains = sorted({c for c in model.chain if len(c) > 1})
    if long_chains:
        raise ExportError(
            f"Chain IDs {', '.join(long_chains[:5])} are longer than the PDB format allows; "
            "use the mmCIF file instead."
        )


def write_pdb(
    model: AtomModel, values: np.ndarray, path: str | os.PathLike, *, remarks: tuple[str, ...] = ()
) -> None:
    """Write :func:`pdb_text` to ``path``."""
    Path(path).write_text(pdb_text(model, values, remarks=remarks))
