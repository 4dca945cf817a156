"""The built-in example and the teaching gallery: synthetic models and simulated maps.

Nothing is downloaded and no data ships with the package: every model is built from ideal
geometry (:mod:`qscore.synthetic.builder.protein`) and every map simulated from it (:mod:`qscore.synthetic.simulate`) with
calibrated B-factors (:mod:`qscore.synthetic.calibration`), on first use, into a cache directory
(``$QSCORE_CACHE_DIR`` or ``~/.cache/qscore``) keyed by :data:`GENERATOR_VERSION`, so that a
change to the generators regenerates the files. Generation is deterministic (fixed seeds).

Each scenario mirrors a figure of the paper and records the known truth in ``expectation``.
Titles and explanations set the scene without giving the answer away (students are asked to
predict it first); the answer, the paper's reasoning and the exercises are in
:mod:`qscore.synthetic.lessons`.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import gemmi
import numpy as np

from qscore.io.maps import write_map
from qscore.synthetic.builder.hetero import (
    add_glycan,
    add_ions,
    add_ligand,
    add_nucleic,
    add_waters,
    flip_ligand,
)
from qscore.synthetic.builder.protein import build_protein, sequence_and_ss, structure_to_mmcif
from qscore.synthetic.calibration import NOISE, calibrated_b_factors
from qscore.synthetic.regions import simulate_regions
from qscore.synthetic.simulate import simulate_map

__all__ = [
    "GENERATOR_VERSION",
    "SCENARIO_PARTS",
    "Example",
    "builtin_example",
    "cache_dir",
    "get_example",
    "scenarios",
]


#: Folders of this subpackage that hold only text (lessons), not generators.
_TEXT_ONLY = ("lessons",)


def _generator_version() -> str:
    """A release number plus a digest of the generator sources (this subpackage, without its
    text-only folders) and gemmi's."""
    digest = hashlib.sha256(str(getattr(gemmi, "__version__", "")).encode())
    here = Path(__file__).resolve().parent
    for path in sorted(here.rglob("*.py")):
        if path.relative_to(here).parts[0] in _TEXT_ONLY:
            continue
        digest.update(path.relative_to(here).as_posix().encode())
        digest.update(path.read_bytes())
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
    ``local_resolution_path`` and ``half_map_paths`` are the true local-resolution map (Å) and
    two half maps, for scenarios whose resolution varies across the map.
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
    maps: dict[str, Path] = field(default_factory=dict)
    local_resolution_path: Path | None = None
    half_map_paths: tuple[Path, Path] | None = None


def cache_dir() -> Path:
    """Root of the generated-example cache (``$QSCORE_CACHE_DIR`` or ``~/.cache/qscore``)."""
    root = os.environ.get("QSCORE_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "qscore"
    return base / f"examples-{GENERATOR_VERSION}"


# ---------------------------------------------------------------------------------------------
# Models

#: The scenario protein: 4 helices around a 3-stranded anti-parallel sheet, all 20 amino acids.
SCENARIO_PARTS = [
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


def _residues_of(parts: list[tuple[str, str]], index: int, first: int = 1) -> list[int]:
    """Residue numbers of segment ``index`` of ``parts``."""
    start = first + sum(len(p) for p, _ in parts[:index])
    return list(range(start, start + len(parts[index][0])))


@cache
def _scenario_protein() -> gemmi.Structure:
    seq, ss = sequence_and_ss(SCENARIO_PARTS)
    return build_protein(seq, ss, seed=7)


def scenario_model() -> gemmi.Structure:
    """A fresh copy of the ~110-residue scenario protein (used by all gallery scenarios)."""
    return _scenario_protein().clone()


def _builtin_model() -> gemmi.Structure:
    seq, ss = sequence_and_ss(SCENARIO_PARTS + _BUILTIN_EXTRA)
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
    if best is None:
        raise ValueError("the structure has no asparagine in chain A")
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
# Scenarios: each is data (how its files are made, the story, the known truth); one generator
# writes model.cif (+ variants) and map.mrc into a folder.

#: (chain, residue numbers, B multiplier, side chains only): parts made mobile in the truth.
_Weakened = tuple[str, list[int], float, bool]


@dataclass(frozen=True)
class _Scenario:
    """How one example's files are generated and what is told about them.

    The truth is ``base()`` with calibrated B-factors at ``map_resolution`` (``resolution``
    unless given), B multiplied in ``weaken``; the map is simulated from the truth. With
    ``regions`` = (chain, residues, Å) those residues' region is simulated at that resolution
    instead (:func:`~qscore.synthetic.regions.simulate_regions`, each region's B-factors
    calibrated), and the true local-resolution map and two half maps are written too. The written
    model is the truth, with ``shift`` = (chain, residues, Å) moved away from the model, and
    ``variants`` are further models made from the truth. ``other_maps`` = (name, seed) are more
    maps simulated from the truth with their own noise (another dataset). Files record
    ``resolution``.
    """

    key: str
    title: str
    explanation: str
    figure: str
    resolution: float
    seed: int
    source: str
    expectation: dict[str, Any]
    map_resolution: float | None = None
    base: Callable[[], gemmi.Structure] = scenario_model
    noise: float = NOISE
    sharpen_b: float = 0.0
    weaken: tuple[_Weakened, ...] = ()
    shift: tuple[str, list[int], float] | None = None
    name: str | None = None
    variants: dict[str, Callable[[gemmi.Structure], gemmi.Structure]] = field(default_factory=dict)
    other_maps: tuple[tuple[str, int], ...] = ()
    regions: tuple[str, list[int], float] | None = None


def _generate_regions(scenario: _Scenario, folder: Path) -> gemmi.Structure:
    """Write the map, the true local-resolution map and the half maps; return the truth."""
    st = scenario.base()
    assert scenario.regions is not None
    chain, resseq, local = scenario.regions
    d = np.where(_mask(st, chain, resseq), local, scenario.resolution)
    maps = simulate_regions(st, d, seed=scenario.seed, source=scenario.source)
    write_map(folder / "local_resolution.mrc", maps.local_resolution)
    write_map(folder / "half_map_1.mrc", maps.half1)
    write_map(folder / "half_map_2.mrc", maps.half2)
    write_map(folder / "map.mrc", maps.map)
    return _with_b(st, maps.b_factors)


def _generate(scenario: _Scenario, folder: Path) -> None:
    if scenario.regions is not None:
        truth = _generate_regions(scenario, folder)
        assert scenario.shift is not None
        chain, resseq, distance = scenario.shift
        model = _shift_residues(
            truth, chain, resseq, distance * _helix_normal(truth, chain, resseq)
        )
        structure_to_mmcif(model, str(folder / "model.cif"), scenario.resolution)
        return
    d = scenario.map_resolution or scenario.resolution
    st = scenario.base()
    b = calibrated_b_factors(st, d)
    for chain, resseq, factor, sidechain in scenario.weaken:
        b[_mask(st, chain, resseq, sidechain=sidechain)] *= factor
    truth = _with_b(st, b)
    dmap = simulate_map(
        truth,
        d,
        noise=scenario.noise,
        sharpen_b=scenario.sharpen_b,
        seed=scenario.seed,
        source=scenario.source,
    )
    model = truth
    if scenario.shift is not None:
        chain, resseq, distance = scenario.shift
        shift = distance * _helix_normal(truth, chain, resseq)
        model = _shift_residues(truth, chain, resseq, shift)
    if scenario.name is not None:
        model.name = scenario.name
    variants = {name: make(truth) for name, make in scenario.variants.items()}
    _write_pair(folder, model, dmap, scenario.resolution, variants)
    for name, seed in scenario.other_maps:
        other = simulate_map(
            truth,
            d,
            noise=scenario.noise,
            sharpen_b=scenario.sharpen_b,
            seed=seed,
            source=f"{scenario.source} ({name})",
        )
        write_map(folder / f"map_{name}.mrc", other)


def _example(scenario: _Scenario) -> Example:
    """The scenario's :class:`Example`, generating its files on first use."""
    folder = _materialise(scenario.key, partial(_generate, scenario))
    return Example(
        key=scenario.key,
        title=scenario.title,
        explanation=scenario.explanation,
        figure=scenario.figure,
        resolution=scenario.resolution,
        map_path=folder / "map.mrc",
        model_path=folder / "model.cif",
        expectation=copy.deepcopy(scenario.expectation),
        variants={name: folder / f"model_{name}.cif" for name in scenario.variants},
        maps={name: folder / f"map_{name}.mrc" for name, _ in scenario.other_maps},
        local_resolution_path=folder / "local_resolution.mrc" if scenario.regions else None,
        half_map_paths=(folder / "half_map_1.mrc", folder / "half_map_2.mrc")
        if scenario.regions
        else None,
    )


def _group(label: str, chain: str, resseq: list[int], atoms: str = "residue") -> dict[str, Any]:
    """One entry of an expectation's ``below_low95`` list."""
    return {"label": label, "chain": chain, "resseq": resseq, "atoms": atoms}


def _flipped_ligand(truth: gemmi.Structure) -> gemmi.Structure:
    """Copy of ``truth`` with the ligand turned 180° about its long axis."""
    flipped = truth.clone()
    lig = flipped[0]["L"][0]
    moved = flip_ligand([(a.name, a.element.name, np.array(a.pos.tolist())) for a in lig])
    for atom, (_, _, xyz) in zip(lig, moved, strict=True):
        atom.pos = gemmi.Position(*xyz)
    return flipped


_LADDER = (1.5, 2.5, 3.5, 6.0)
_SECOND_HELIX = _residues_of(SCENARIO_PARTS, 9)
_MISFIT = _SECOND_HELIX[3:13]
_FLEX_LOOP = _residues_of(SCENARIO_PARTS, 8)
_FLEX_SIDECHAIN = _residues_of(SCENARIO_PARTS, 11)[9]  # an ARG in the third helix
_GLYCAN_ASN = _residues_of(SCENARIO_PARTS, 4)[0]  # the ASN of the first hairpin turn
_POOR_SUGAR = 4
_POOR_NUCLEOTIDES = [5, 6, 7, 8]
_TWO_DOMAIN_FLEXIBLE = [n for k in range(11, 15) for n in _residues_of(SCENARIO_PARTS, k)]
_TWO_DOMAIN_SHIFTED = _residues_of(SCENARIO_PARTS, 1)[4:11]
_BUILTIN_LOOP = _residues_of(SCENARIO_PARTS + _BUILTIN_EXTRA, 19)
_BUILTIN_SHIFTED = _residues_of(SCENARIO_PARTS + _BUILTIN_EXTRA, 13)[6:8]


def _ladder(d: float) -> _Scenario:
    return _Scenario(
        key=f"ladder-{d:g}",
        title=f"A small protein at {d:g} Å",
        explanation=(
            "A 108-residue protein (four helices packed against a three-stranded sheet) "
            f"in a cryo-EM map reported at {d:g} Å, and the model its authors built and refined. "
            "Look at the density around one side chain, then say whether anything is wrong."
        ),
        figure="Fig. 1",
        resolution=d,
        seed=1,
        source="ladder",
        expectation={"model": "near_peak"},
    )


def _misreported(map_resolution: float, seed: int, title: str, explanation: str) -> _Scenario:
    """A correct model in a map made at ``map_resolution`` but reported at 3 Å."""
    worse = map_resolution > 3.0
    return _Scenario(
        key="resolution-overstated" if worse else "resolution-understated",
        title=title,
        explanation=explanation,
        figure="Fig. 2(e)",
        resolution=3.0,
        map_resolution=map_resolution,
        seed=seed,
        source="resolution",
        expectation={"model": "below_low95" if worse else "above_high95"},
    )


_SCENARIOS: dict[str, _Scenario] = {
    s.key: s
    for s in (
        *(_ladder(d) for d in _LADDER),
        _Scenario(
            key="misfit-segment",
            title="A 3 Å map and a helix to check",
            explanation=(
                "The same protein in a map reported at 3 Å. The model builder ran short of time "
                f"on the second helix (A{_SECOND_HELIX[0]}–A{_SECOND_HELIX[-1]}) and asks you to "
                "check it before deposition. Look at the density around that helix."
            ),
            figure="Fig. 2(b, d)",
            resolution=3.0,
            seed=2,
            source="misfit",
            shift=("A", _MISFIT, 3.0),
            expectation={
                "model": "within",
                "below_low95": [_group("shifted segment", "A", _MISFIT)],
                "rest_within": True,
            },
        ),
        _Scenario(
            key="oversharpened",
            title="A 3 Å map after post-processing",
            explanation=(
                "The same protein in a map reported at 3 Å. The deposited map is the "
                "post-processed one, sharpened with B = −60 Å², in which little noise is left, "
                "and the model was refined into this same map. Compare the density around one "
                "side chain with the same residue in 2.5 Å and 3.5 Å maps of this protein."
            ),
            figure="Fig. 2(c)",
            resolution=3.0,
            seed=3,
            source="oversharpened",
            noise=0.05,
            sharpen_b=-60.0,
            expectation={"model": "above_high95"},
        ),
        _misreported(
            5.0,
            11,
            "A map reported at 3 Å",
            "The same protein in a map its authors report at 3 Å (FSC 0.143). The model was "
            "placed from a trusted homologue and refined. Compare the density around one side "
            "chain with the same residue in 2.5 Å and 3.5 Å maps of this protein.",
        ),
        _misreported(
            2.0,
            12,
            "Another map reported at 3 Å",
            "The same protein in another map reported at 3 Å; its FSC was computed inside a "
            "generous mask that holds a lot of solvent. The model was placed from a trusted "
            "homologue and refined. Compare the density around one side chain with the same "
            "residue in 2.5 Å and 3.5 Å maps of this protein.",
        ),
        _Scenario(
            key="flexible-loop",
            title="A 3 Å map: a loop and a long side chain",
            explanation=(
                "The same protein in a map reported at 3 Å. The modeller marks two places as "
                f"uncertain: the loop A{_FLEX_LOOP[0]}–A{_FLEX_LOOP[-1]} between the sheet and "
                f"the second helix, and the side chain of ARG A{_FLEX_SIDECHAIN}. Look at the "
                "density there."
            ),
            figure="Fig. 3(a–e)",
            resolution=3.0,
            seed=4,
            source="flexible",
            weaken=(("A", _FLEX_LOOP, 5.0, False), ("A", [_FLEX_SIDECHAIN], 6.0, True)),
            expectation={
                "model": "within",
                "below_low95": [
                    _group("flexible loop", "A", _FLEX_LOOP),
                    _group("disordered side chain", "A", [_FLEX_SIDECHAIN], "sidechain"),
                ],
            },
        ),
        _Scenario(
            key="ligand-pose",
            title="Two poses for one ligand",
            explanation=(
                "The protein with a bound ligand (LIG) in a map reported at 2.5 Å. Two modellers "
                "placed the ligand differently, and both put its rings into the density. A second "
                "map of the same complex (another dataset at 2.5 Å) comes with it. Which pose does "
                "the map support?"
            ),
            figure="Fig. 4(e–j)",
            resolution=2.5,
            seed=5,
            source="ligand",
            base=lambda: add_ligand(scenario_model(), seed=3),
            variants={"correct": lambda truth: truth, "flipped": _flipped_ligand},
            other_maps=(("second", 15),),
            expectation={
                "model": "near_peak",
                "higher": {"chain": "L", "better": "correct", "worse": "flipped"},
                "compare": {"model": "flipped", "map": "second"},
            },
        ),
        _Scenario(
            key="glycan",
            title="A glycan at 3 Å",
            explanation=(
                "The protein carries an N-glycan of five saccharides (NAG-NAG-BMA with two MAN "
                f"branches, chain G) on ASN A{_GLYCAN_ASN}, in a map reported at 3 Å. Look at "
                "the density around the glycan: does the map support every saccharide?"
            ),
            figure="Fig. 4(a–d)",
            resolution=3.0,
            seed=6,
            source="glycan",
            base=lambda: add_glycan(scenario_model(), ("A", _GLYCAN_ASN)),
            weaken=(("G", [_POOR_SUGAR], 6.0, False),),
            expectation={
                "model": "within",
                "below_low95": [_group("mobile mannose", "G", [_POOR_SUGAR])],
                "lowest_in_chain": {"chain": "G", "resseq": _POOR_SUGAR},
            },
        ),
        _Scenario(
            key="nucleic-acid",
            title="An RNA strand at 3 Å",
            explanation=(
                "A 12-nucleotide RNA strand (chain N) binds the protein, in a map reported at "
                "3 Å. Look at the density along the strand: is every nucleotide supported?"
            ),
            figure="Fig. 3(f, g)",
            resolution=3.0,
            seed=7,
            source="nucleic",
            base=lambda: add_nucleic(scenario_model(), "GGCAUCGCUAGC", seed=5),
            weaken=(("N", _POOR_NUCLEOTIDES, 5.0, False),),
            expectation={
                "model": "within",
                "below_low95": [_group("heterogeneous stretch", "N", _POOR_NUCLEOTIDES)],
            },
        ),
        _Scenario(
            key="local-resolution",
            title="Two domains, one reported resolution",
            explanation=(
                "The same protein in a map reported at 3 Å, with a local-resolution map. Two "
                "stretches score below the 95% band at 3 Å: "
                f"A{_TWO_DOMAIN_SHIFTED[0]}–A{_TWO_DOMAIN_SHIFTED[-1]} in the first helix and "
                f"A{_TWO_DOMAIN_FLEXIBLE[0]}–A{_TWO_DOMAIN_FLEXIBLE[-1]}, the last two helices."
            ),
            figure="§8",
            resolution=3.0,
            seed=9,
            source="local resolution",
            regions=("A", _TWO_DOMAIN_FLEXIBLE, 6.0),
            shift=("A", _TWO_DOMAIN_SHIFTED, 2.5),
            expectation={
                "model": "within",
                "local": {
                    "misfit": {"chain": "A", "resseq": _TWO_DOMAIN_SHIFTED},
                    "flexible": {"chain": "A", "resseq": _TWO_DOMAIN_FLEXIBLE, "resolution": 6.0},
                },
            },
        ),
    )
}

_BUILTIN = _Scenario(
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
    seed=8,
    source="built-in example",
    base=_builtin_model,
    weaken=(("A", _BUILTIN_LOOP, 5.0, False),),
    shift=("A", _BUILTIN_SHIFTED, 2.5),
    name="qscore-example",
    expectation={
        "model": "near_peak",
        "below_low95": [
            _group("flexible loop", "A", _BUILTIN_LOOP),
            _group("residues out of density", "A", _BUILTIN_SHIFTED),
        ],
    },
)


# ---------------------------------------------------------------------------------------------
# Catalogue


def scenario_keys() -> list[str]:
    """Keys of the teaching scenarios, in workshop order."""
    return list(_SCENARIOS)


def get_example(key: str) -> Example:
    """One scenario (or ``builtin``) by key, generating its files on first use."""
    if key == "builtin":
        return builtin_example()
    if key not in _SCENARIOS:
        known = ", ".join(["builtin", *_SCENARIOS])
        raise KeyError(f"Unknown example {key!r}; known examples: {known}.")
    return _example(_SCENARIOS[key])


def scenarios() -> list[Example]:
    """All teaching scenarios, ordered for a workshop (generated on first use)."""
    return [get_example(key) for key in _SCENARIOS]


def builtin_example() -> Example:
    """The example a first-time visitor sees: a varied model in a simulated 3 Å map."""
    return _example(_BUILTIN)
