"""The built-in example and the teaching gallery: synthetic models and simulated maps.

Nothing is downloaded and no data ships with the package: every model is built from ideal
geometry (:mod:`qscore.builder`) and every map simulated from it (:mod:`qscore.simulate`) with
calibrated B-factors (:mod:`qscore.calibration`), on first use, into a cache directory
(``$QSCORE_CACHE_DIR`` or ``~/.cache/qscore``) keyed by :data:`GENERATOR_VERSION`, so that a
change to the generators regenerates the files. Generation is deterministic (fixed seeds).

Each scenario mirrors a figure of the paper and records the known truth in ``expectation``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import gemmi
import numpy as np

from qscore.builder import build_protein, structure_to_mmcif
from qscore.builder_hetero import (
    add_glycan,
    add_ions,
    add_ligand,
    add_nucleic,
    add_waters,
    flip_ligand,
)
from qscore.calibration import NOISE, calibrated_b_factors
from qscore.maps import write_map
from qscore.simulate import simulate_map

__all__ = [
    "GENERATOR_VERSION",
    "Example",
    "builtin_example",
    "cache_dir",
    "get_example",
    "scenarios",
]

_GENERATOR_MODULES = (
    "builder.py",
    "builder_geometry.py",
    "builder_ic.py",
    "builder_nucleic.py",
    "builder_hetero.py",
    "simulate.py",
    "calibration.py",
    "examples.py",
)


def _generator_version() -> str:
    """A release number plus a digest of the generator sources and gemmi's version."""
    digest = hashlib.sha256(gemmi.__version__.encode())
    here = Path(__file__).resolve().parent
    for name in _GENERATOR_MODULES:
        digest.update((here / name).read_bytes())
    return f"1-{digest.hexdigest()[:12]}"


#: Cached files are keyed by this, so any change to a generator regenerates them.
GENERATOR_VERSION = _generator_version()
SIGMA = 0.4


@dataclass(frozen=True)
class Example:
    """One map + model pair with its story and the truth a Q-score analysis should recover.

    ``expectation`` is machine-readable: ``model`` is one of ``near_peak``, ``above_high95``
    or ``below_low95`` (the whole-model mean Q against the bands at ``resolution``);
    ``below_low95`` lists groups (``label``, ``chain``, ``resseq``, ``atoms`` = ``residue`` or
    ``sidechain``) whose mean Q falls below Q_low_95; ``rest_within`` says whether everything
    else stays within the bands; ``higher`` names a variant that must score above another.
    ``variants`` maps names to alternative model files for the same map.
    """

    key: str
    title: str
    explanation: str
    figure: str
    resolution: float
    map_path: Path
    model_path: Path
    sigma: float = SIGMA
    expectation: dict[str, Any] = field(default_factory=dict)
    variants: dict[str, Path] = field(default_factory=dict)


def cache_dir() -> Path:
    """Root of the generated-example cache (``$QSCORE_CACHE_DIR`` or ``~/.cache/qscore``)."""
    root = os.environ.get("QSCORE_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "qscore"
    return base / f"examples-{GENERATOR_VERSION}"


# ---------------------------------------------------------------------------------------------
# Models

#: The scenario protein: 3 helices around a 3-stranded anti-parallel sheet, all 20 amino acids.
_SCENARIO_PARTS = [
    ("MS", "L"),
    ("PEELLKKAEELIKRAQ", "H"),
    ("EGNWD", "L"),
    ("KVEVTVH", "E"),
    ("NG", "L"),
    ("KTYRFEV", "E"),
    ("DG", "L"),
    ("RKIEV", "E"),
    ("HPSTGKP", "L"),
    ("DAELAKEFAKLAIEAA", "H"),
    ("KRGD", "L"),
    ("TEQLREVLERLMQQ", "H"),
    ("GSW", "L"),
    ("SPEEIAKKCLEYLKKH", "H"),
    ("GK", "L"),
]
#: Extra helices for the built-in example (about 180 residues in all).
_BUILTIN_EXTRA = [
    ("GSLN", "L"),
    ("PEDVARLALELAKRYLEE", "H"),
    ("NPGT", "L"),
    ("SWEEAIKIAQEMLKRAGY", "H"),
    ("DPSNGT", "L"),
    ("LEEFVKKALEIARKHG", "H"),
    ("SK", "L"),
]


def _spec(parts: list[tuple[str, str]]) -> tuple[str, str]:
    seq = "".join(p for p, _ in parts)
    ss = "".join(s * len(p) for p, s in parts)
    return seq, ss


def _residues_of(parts: list[tuple[str, str]], index: int, first: int = 1) -> list[int]:
    """Residue numbers of segment ``index`` of ``parts``."""
    start = first + sum(len(p) for p, _ in parts[:index])
    return list(range(start, start + len(parts[index][0])))


@cache
def _scenario_protein() -> gemmi.Structure:
    seq, ss = _spec(_SCENARIO_PARTS)
    return build_protein(seq, ss, seed=7)


def scenario_model() -> gemmi.Structure:
    """A fresh copy of the ~110-residue scenario protein (used by all gallery scenarios)."""
    return _scenario_protein().clone()


def _builtin_model() -> gemmi.Structure:
    seq, ss = _spec(_SCENARIO_PARTS + _BUILTIN_EXTRA)
    st = build_protein(seq, ss, seed=11)
    st = add_ligand(st, seed=3)
    st = add_nucleic(st, "GGCAUCGCUAGC", seed=5)
    asn = _exposed_asn(st)
    st = add_glycan(st, ("A", asn))
    st = add_waters(st, 12, seed=2)
    return add_ions(st, ("MG", "ZN"), seed=4)


def _exposed_asn(st: gemmi.Structure) -> int:
    """Number of the ASN whose ND2 has the fewest atoms within 10 Å."""
    ns = gemmi.NeighborSearch(st[0], st.cell, 10.0).populate()
    best, best_n = None, None
    for r in st[0]["A"]:
        if r.name == "ASN":
            n = len(ns.find_atoms(r["ND2"][0].pos, "\0", radius=10.0))
            if best_n is None or n < best_n:
                best, best_n = r.seqid.num, n
    return best


# ---------------------------------------------------------------------------------------------
# Helpers on structures


def _heavy_atoms(st: gemmi.Structure):
    return [(ch, r, a) for ch in st[0] for r in ch for a in r if a.element.name != "H"]


def _mask(st: gemmi.Structure, chain: str, resseq: list[int], sidechain: bool = False):
    keep = set(resseq)
    return np.array(
        [
            ch.name == chain
            and r.seqid.num in keep
            and (not sidechain or a.name not in ("N", "CA", "C", "O", "OXT"))
            for ch, r, a in _heavy_atoms(st)
        ]
    )


def _shift_residues(st: gemmi.Structure, chain: str, resseq: list[int], shift: np.ndarray):
    """Copy of ``st`` with the listed residues translated by ``shift`` (Å)."""
    out = st.clone()
    keep = set(resseq)
    for r in out[0][chain]:
        if r.seqid.num in keep:
            for a in r:
                a.pos = gemmi.Position(*(np.array(a.pos.tolist()) + shift))
    return out


def _with_b(st: gemmi.Structure, b: np.ndarray) -> gemmi.Structure:
    """Copy of ``st`` whose heavy atoms carry ``b`` (rounded, as a refined model would)."""
    out = st.clone()
    for (_, _, a), value in zip(_heavy_atoms(out), b, strict=True):
        a.b_iso = float(round(value, 1))
    return out


def _helix_normal(st: gemmi.Structure, chain: str, resseq: list[int]) -> np.ndarray:
    """A unit vector perpendicular to the segment's CA axis, pointing away from the model."""
    ca = np.array([st[0][chain][str(n)][0]["CA"][0].pos.tolist() for n in resseq])
    axis = ca[-1] - ca[0]
    axis /= np.linalg.norm(axis)
    everything = np.array([a.pos.tolist() for _, _, a in _heavy_atoms(st)])
    out = ca.mean(axis=0) - everything.mean(axis=0)
    out -= np.dot(out, axis) * axis
    return out / np.linalg.norm(out)


# ---------------------------------------------------------------------------------------------
# Cache


def _write_pair(folder: Path, st: gemmi.Structure, dmap, resolution: float, variants=None):
    structure_to_mmcif(st, str(folder / "model.cif"), resolution)
    write_map(folder / "map.mrc", dmap)
    for name, vst in (variants or {}).items():
        structure_to_mmcif(vst, str(folder / f"model_{name}.cif"), resolution)


def _materialise(key: str, make: Callable[[Path], None]) -> Path:
    """Folder holding the files of ``key``, generated atomically on first use."""
    folder = cache_dir() / key
    if (folder / "map.mrc").exists() and (folder / "model.cif").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        make(tmp)
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "map.mrc").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ---------------------------------------------------------------------------------------------
# Scenario generators: each writes model.cif (+ variants) and map.mrc into a folder.


def _gen_well_fitted(resolution: float) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        st = scenario_model()
        b = calibrated_b_factors(st, resolution)
        truth = _with_b(st, b)
        dmap = simulate_map(truth, resolution, noise=NOISE, seed=1, source="ladder")
        _write_pair(folder, truth, dmap, resolution)

    return make


_MISFIT = _residues_of(_SCENARIO_PARTS, 9)[3:13]


def _gen_misfit(folder: Path) -> None:
    st = scenario_model()
    truth = _with_b(st, calibrated_b_factors(st, 3.0))
    dmap = simulate_map(truth, 3.0, noise=NOISE, seed=2, source="misfit")
    shift = 3.0 * _helix_normal(truth, "A", _MISFIT)
    _write_pair(folder, _shift_residues(truth, "A", _MISFIT, shift), dmap, 3.0)


def _gen_oversharpened(folder: Path) -> None:
    st = scenario_model()
    truth = _with_b(st, calibrated_b_factors(st, 3.0))
    dmap = simulate_map(truth, 3.0, noise=0.05, sharpen_b=-60.0, seed=3, source="oversharpened")
    _write_pair(folder, truth, dmap, 3.0)


def _gen_resolution(true_d: float, reported: float, seed: int) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        st = scenario_model()
        truth = _with_b(st, calibrated_b_factors(st, true_d))
        dmap = simulate_map(truth, true_d, noise=NOISE, seed=seed, source="resolution")
        _write_pair(folder, truth, dmap, reported)

    return make


_FLEX_LOOP = _residues_of(_SCENARIO_PARTS, 8)
_FLEX_SIDECHAIN = _residues_of(_SCENARIO_PARTS, 11)[9]  # an ARG in the third helix


def _gen_flexible(folder: Path) -> None:
    st = scenario_model()
    b = calibrated_b_factors(st, 3.0)
    b[_mask(st, "A", _FLEX_LOOP)] *= 5.0
    b[_mask(st, "A", [_FLEX_SIDECHAIN], sidechain=True)] *= 6.0
    truth = _with_b(st, b)
    dmap = simulate_map(truth, 3.0, noise=NOISE, seed=4, source="flexible")
    _write_pair(folder, truth, dmap, 3.0)


def _gen_ligand(folder: Path) -> None:
    st = add_ligand(scenario_model(), seed=3)
    truth = _with_b(st, calibrated_b_factors(st, 2.5))
    dmap = simulate_map(truth, 2.5, noise=NOISE, seed=5, source="ligand")
    flipped = truth.clone()
    lig = flipped[0]["L"][0]
    moved = flip_ligand([(a.name, a.element.name, np.array(a.pos.tolist())) for a in lig])
    for atom, (_, _, xyz) in zip(lig, moved, strict=True):
        atom.pos = gemmi.Position(*xyz)
    _write_pair(folder, truth, dmap, 2.5, {"correct": truth, "flipped": flipped})


_POOR_SUGAR = 4


def _glycan_asn() -> int:
    return _residues_of(_SCENARIO_PARTS, 4)[0]  # the ASN of the first hairpin turn


def _gen_glycan(folder: Path) -> None:
    st = add_glycan(scenario_model(), ("A", _glycan_asn()))
    b = calibrated_b_factors(st, 3.0)
    b[_mask(st, "G", [_POOR_SUGAR])] *= 6.0
    truth = _with_b(st, b)
    dmap = simulate_map(truth, 3.0, noise=NOISE, seed=6, source="glycan")
    _write_pair(folder, truth, dmap, 3.0)


_POOR_NUCLEOTIDES = [5, 6, 7, 8]


def _gen_nucleic(folder: Path) -> None:
    st = add_nucleic(scenario_model(), "GGCAUCGCUAGC", seed=5)
    b = calibrated_b_factors(st, 3.0)
    b[_mask(st, "N", _POOR_NUCLEOTIDES)] *= 5.0
    truth = _with_b(st, b)
    dmap = simulate_map(truth, 3.0, noise=NOISE, seed=7, source="nucleic")
    _write_pair(folder, truth, dmap, 3.0)


_BUILTIN_LOOP = _residues_of(_SCENARIO_PARTS + _BUILTIN_EXTRA, 19)
_BUILTIN_SHIFTED = _residues_of(_SCENARIO_PARTS + _BUILTIN_EXTRA, 13)[6:8]


def _gen_builtin(folder: Path) -> None:
    st = _builtin_model()
    b = calibrated_b_factors(st, 3.0)
    b[_mask(st, "A", _BUILTIN_LOOP)] *= 5.0
    truth = _with_b(st, b)
    dmap = simulate_map(truth, 3.0, noise=NOISE, seed=8, source="built-in example")
    shift = 2.5 * _helix_normal(truth, "A", _BUILTIN_SHIFTED)
    model = _shift_residues(truth, "A", _BUILTIN_SHIFTED, shift)
    model.name = "qscore-example"
    _write_pair(folder, model, dmap, 3.0)


# ---------------------------------------------------------------------------------------------
# Catalogue

_LADDER = (1.5, 2.5, 3.5, 6.0)


def _ladder_example(d: float) -> Example:
    key = f"ladder-{d:g}"
    folder = _materialise(key, _gen_well_fitted(d))
    return Example(
        key=key,
        title=f"Well-fitted model at {d:g} Å",
        explanation=(
            f"The same correctly built model in a map at {d:g} Å. Nothing is wrong here: the "
            "model's average Q-score lands near Q_peak, the value most often seen in the EMDB "
            "at this resolution. Step through the ladder (1.5, 2.5, 3.5 and 6 Å) to see Q fall "
            "as the resolution worsens: at 1.5 Å atoms are separate peaks (Q near 0.85), at "
            "3.5 Å side chains blur, and at 6 Å only helices remain as rods (Q near 0.2). A Q "
            "value only means something next to the resolution it was measured at."
        ),
        figure="Fig. 1",
        resolution=d,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={"model": "near_peak"},
    )


def _misfit_example() -> Example:
    folder = _materialise("misfit-segment", _gen_misfit)
    return Example(
        key="misfit-segment",
        title="A helix segment built out of its density",
        explanation=(
            f"Ten residues of the second helix (A{_MISFIT[0]}–A{_MISFIT[-1]}) were moved 3 Å "
            "sideways, as happens when a segment is built into the wrong density or left "
            "behind during fitting. Their per-residue Q-scores drop below Q_low_95 while the "
            "rest of the model stays within the 95% bands, so the per-residue plot points "
            "straight at the problem. Refitting the segment would bring it back into the bands."
        ),
        figure="Fig. 2(b, d)",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "within",
            "below_low95": [
                {"label": "shifted segment", "chain": "A", "resseq": _MISFIT, "atoms": "residue"}
            ],
            "rest_within": True,
        },
    )


def _oversharpened_example() -> Example:
    folder = _materialise("oversharpened", _gen_oversharpened)
    return Example(
        key="oversharpened",
        title="A sharpened, almost noise-free map and the model it was made from",
        explanation=(
            "The map at 3 Å was sharpened (B = −60 Å²) and carries very little noise, and the "
            "model is exactly the one that produced it, as if refined into the sharpened map. "
            "Atoms then look sharper than real 3 Å maps allow and the model's Q lands above "
            "Q_high_95. In real data sharpening also amplifies noise, and strong "
            "oversharpening lowers Q instead; a Q above the band is a reason to look at how "
            "the map was sharpened and whether the model was refined into that same map."
        ),
        figure="Fig. 2(c)",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={"model": "above_high95"},
    )


def _resolution_examples() -> list[Example]:
    worse = _materialise("resolution-overstated", _gen_resolution(5.0, 3.0, 11))
    better = _materialise("resolution-understated", _gen_resolution(2.0, 3.0, 12))
    common = {"figure": "Fig. 2(e)", "resolution": 3.0}
    return [
        Example(
            key="resolution-overstated",
            title="Reported 3 Å, but the map is really about 5 Å",
            explanation=(
                "The map was made at 5 Å but is reported at 3 Å. A correct model cannot "
                "score better than the map allows, so its Q falls below Q_low_95 for 3 Å. "
                "When a good model scores low everywhere, check the reported resolution "
                "(for example the FSC curve and the local resolution) before blaming the model."
            ),
            map_path=worse / "map.mrc",
            model_path=worse / "model.cif",
            expectation={"model": "below_low95"},
            **common,
        ),
        Example(
            key="resolution-understated",
            title="Reported 3 Å, but the map is really about 2 Å",
            explanation=(
                "The map was made at 2 Å but is reported at 3 Å, so the model's Q lies above "
                "Q_high_95 for the reported resolution: atoms are better resolved than 3 Å "
                "allows. In the EMDB this usually means the stated resolution is too "
                "cautious, or that parts of the map are better than the global value."
            ),
            map_path=better / "map.mrc",
            model_path=better / "model.cif",
            expectation={"model": "above_high95"},
            **common,
        ),
    ]


def _flexible_example() -> Example:
    folder = _materialise("flexible-loop", _gen_flexible)
    return Example(
        key="flexible-loop",
        title="A flexible loop and a disordered side chain",
        explanation=(
            f"The model is right everywhere, but the loop A{_FLEX_LOOP[0]}–A{_FLEX_LOOP[-1]} "
            f"moves (B five times higher) and the side chain of A{_FLEX_SIDECHAIN} is "
            "disordered. Their density is weak and smeared, so their Q-scores fall below "
            "Q_low_95 although the coordinates are correct. Low Q means 'not resolved here': "
            "it can come from flexibility or heterogeneity, not only from a wrong model."
        ),
        figure="Fig. 3(a–e)",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "within",
            "below_low95": [
                {"label": "flexible loop", "chain": "A", "resseq": _FLEX_LOOP, "atoms": "residue"},
                {
                    "label": "disordered side chain",
                    "chain": "A",
                    "resseq": [_FLEX_SIDECHAIN],
                    "atoms": "sidechain",
                },
            ],
        },
    )


def _ligand_example() -> Example:
    folder = _materialise("ligand-pose", _gen_ligand)
    return Example(
        key="ligand-pose",
        title="Which ligand pose does the map support?",
        explanation=(
            "One map at 2.5 Å, two models that differ only in the ligand LIG: in 'flipped' it "
            "is turned 180° about its long axis, so the rings still sit in the density but the "
            "substituents point the wrong way. The correct pose scores near Q_peak; the "
            "flipped one scores clearly lower. Comparing Q-scores of alternative poses in the "
            "same map is a simple, quantitative way to choose between them."
        ),
        figure="Fig. 4(e–j)",
        resolution=2.5,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "near_peak",
            "higher": {"chain": "L", "better": "correct", "worse": "flipped"},
        },
        variants={
            "correct": folder / "model_correct.cif",
            "flipped": folder / "model_flipped.cif",
        },
    )


def _glycan_example() -> Example:
    folder = _materialise("glycan", _gen_glycan)
    return Example(
        key="glycan",
        title="An N-glycan with one poorly resolved saccharide",
        explanation=(
            f"Five saccharides (NAG-NAG-BMA with two MAN branches) hang on ASN "
            f"A{_glycan_asn()}. One terminal mannose (G{_POOR_SUGAR}) is mobile, so its density "
            "is weak and its Q falls below Q_low_95 and below the other saccharides, which "
            "are resolved. Per-saccharide Q-scores show which parts of a glycan the map "
            "really supports."
        ),
        figure="Fig. 4(a–d)",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "within",
            "below_low95": [
                {
                    "label": "mobile mannose",
                    "chain": "G",
                    "resseq": [_POOR_SUGAR],
                    "atoms": "residue",
                }
            ],
            "lowest_in_chain": {"chain": "G", "resseq": _POOR_SUGAR},
        },
    )


def _nucleic_example() -> Example:
    folder = _materialise("nucleic-acid", _gen_nucleic)
    first, last = _POOR_NUCLEOTIDES[0], _POOR_NUCLEOTIDES[-1]
    return Example(
        key="nucleic-acid",
        title="An RNA strand with a poorly resolved stretch",
        explanation=(
            f"A 12-nucleotide A-form RNA strand binds the protein. Nucleotides N{first}–N{last} "
            "are conformationally heterogeneous: their phosphate, sugar and base Q-scores "
            "fall below Q_low_95, while the rest of the strand is resolved as expected at "
            "3 Å. Per-nucleotide Q-scores locate such regions the same way per-residue "
            "Q-scores do for proteins."
        ),
        figure="Fig. 3(f, g)",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "within",
            "below_low95": [
                {
                    "label": "heterogeneous stretch",
                    "chain": "N",
                    "resseq": _POOR_NUCLEOTIDES,
                    "atoms": "residue",
                }
            ],
        },
    )


_BUILDERS: dict[str, Callable[[], Example | list[Example]]] = {
    **{f"ladder-{d:g}": (lambda d=d: _ladder_example(d)) for d in _LADDER},
    "misfit-segment": _misfit_example,
    "oversharpened": _oversharpened_example,
    "resolution-overstated": lambda: _resolution_examples()[0],
    "resolution-understated": lambda: _resolution_examples()[1],
    "flexible-loop": _flexible_example,
    "ligand-pose": _ligand_example,
    "glycan": _glycan_example,
    "nucleic-acid": _nucleic_example,
}


def scenario_keys() -> list[str]:
    """Keys of the teaching scenarios, in workshop order."""
    return list(_BUILDERS)


def get_example(key: str) -> Example:
    """One scenario (or ``builtin``) by key, generating its files on first use."""
    if key == "builtin":
        return builtin_example()
    if key not in _BUILDERS:
        known = ", ".join(["builtin", *_BUILDERS])
        raise KeyError(f"Unknown example {key!r}; known examples: {known}.")
    return _BUILDERS[key]()


def scenarios() -> list[Example]:
    """All teaching scenarios, ordered for a workshop (generated on first use)."""
    return [get_example(key) for key in _BUILDERS]


def builtin_example() -> Example:
    """The example a first-time visitor sees: a varied model in a simulated 3 Å map."""
    folder = _materialise("builtin", _gen_builtin)
    return Example(
        key="builtin",
        title="Built-in example: protein, RNA, ligand, glycan, waters and ions at 3 Å",
        explanation=(
            "A synthetic 177-residue protein with helices, a three-stranded sheet and loops, a "
            "bound ligand, a 12-nucleotide RNA strand, an N-glycan, waters and two ions, in a "
            "simulated 3 Å map with realistic B-factors and noise. Most of it scores near "
            f"Q_peak for 3 Å. Two things stand out: the loop A{_BUILTIN_LOOP[0]}–"
            f"A{_BUILTIN_LOOP[-1]} is flexible (weak density, low Q), and residues "
            f"A{_BUILTIN_SHIFTED[0]}–A{_BUILTIN_SHIFTED[-1]} were built 2.5 Å out of their "
            "density. Both show up as low per-residue Q-scores."
        ),
        figure="Fig. 1–4",
        resolution=3.0,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation={
            "model": "near_peak",
            "below_low95": [
                {
                    "label": "flexible loop",
                    "chain": "A",
                    "resseq": _BUILTIN_LOOP,
                    "atoms": "residue",
                },
                {
                    "label": "residues out of density",
                    "chain": "A",
                    "resseq": _BUILTIN_SHIFTED,
                    "atoms": "residue",
                },
            ],
        },
    )
