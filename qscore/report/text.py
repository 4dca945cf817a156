"""The report's words: how to read the numbers, what each sampling mode is, the section captions.

The interpretation follows *Q-score as a reliability measure* (Pintilie et al., Acta Cryst. D81,
410–422, 2025), said in plain words for a reader who has not read it.
"""

from __future__ import annotations

#: What each sampling mode reproduces.
MODES = {
    "direct": "MapQ's single-process path: the map is sampled as it is stored",
    "mapq-multiprocess": (
        "MapQ's multi-process path (as in the EMDB's runs): the map is first resampled on a "
        "lattice aligned to whole voxels"
    ),
}

CITATION = (
    "Pintilie G. et al. (2025) Q-score as a reliability measure for protein, nucleic acid and "
    "small-molecule atomic coordinate models derived from 3DEM maps. Acta Cryst. D81, 410–422. "
    "Pintilie G. et al. (2020) Measurement of atom resolvability in cryo-EM maps with Q-scores. "
    "Nat. Methods 17, 328–334."
)

#: "How to read this report": (heading, paragraph HTML) pairs.
HOW_TO_READ = (
    (
        "What a Q-score measures",
        "For each atom, the map is sampled at the atom's centre and on spheres around it out to "
        "2 Å, and compared with a Gaussian peak centred on the atom. Q is the correlation "
        "between the two: close to 1 when the map holds a sharp peak exactly where the atom "
        "is, around 0 when the map near the atom is flat or noisy, or the atom sits away from "
        "its density, and below 0 when the map is lower at the atom than around it. Averages "
        "over residues, molecules, chains and the whole model are plain means over their "
        "non-hydrogen atoms.",
    ),
    (
        "Compare with the resolution, not with 1",
        "Even a perfectly built model scores lower in a map of lower resolution. Across about "
        "ten thousand EMDB entries, models average close to 0.8 or more near 1.5 Å, where "
        "single atoms show up; around 0.5 near 2.5–3 Å, where side chains are resolved; and "
        "from about 0.25 down to 0.1 between 5 and 10 Å, where side chains are blurred but "
        "helices remain visible. "
        "Q_peak is the value met most often among archive entries at the map's resolution, and "
        "95% of entries lie between Q_low_95% and Q_high_95%. The same lines are drawn on the "
        "per-residue, per-molecule and histogram plots, as a guide for parts of a model.",
    ),
    (
        "When values are low",
        "A model, or a stretch of it, below Q_low_95% deserves a look in the map. The usual "
        "reasons are a misfit (atoms shifted out of their density, a register error, a ligand "
        "in the wrong pose or the wrong ligand), a region the map does not resolve (flexible "
        "loops and termini, conformational heterogeneity, side chains damaged by the electron "
        "beam such as acidic ones), or a map whose overall resolution is worse than reported. A "
        "low Q alone does not say which; the map around the residue usually does. Residues "
        "whose backbone is within the band but whose side chain is far below it point to the "
        "side chain.",
    ),
    (
        "When values are high",
        "A model above Q_high_95% is also unusual. It can mean that the map was sharpened "
        "beyond what its signal supports and the model refined into it, that the model is "
        "over-fitted, or that the reported resolution undersells the map (for example when "
        "much of the map is better than the single number says).",
    ),
    (
        "Percentiles against the archive",
        "Q_relative_all is the share of all EMDB entries with a lower Q-score: the higher, the "
        "better the map and model compare with the whole archive. Q_relative_resolution is the "
        "same share among entries within ±w Å of the map's resolution (w = 0.5 Å by default, "
        "narrow enough that the ranking does not drift with resolution). Near 50% means as "
        "commonly observed; below about 5% or above about 95% calls for the checks above.",
    ),
    (
        "Low resolution and what Q does not measure",
        "Between 5 and 10 Å Q changes little with resolution, so the band separates less; a "
        "value near 0 still points to a misfit. Q-scores say nothing about stereochemistry "
        "(bond lengths and angles, Ramachandran and rotamer outliers, clashes): check those "
        "with the usual geometry tools.",
    ),
    (
        "Atom inclusion",
        "Atom inclusion is the share of atoms inside the map's contour surface at a given "
        "level. It depends entirely on the level: any model reaches 100% at a low enough "
        "level. At the level the authors recommend for their map, backbone atoms outside the "
        "surface mark parts of the model without density to support them. Unlike Q it does not "
        "say whether atoms are resolved, only whether they are inside the envelope.",
    ),
    (
        "B-factors from Q-scores",
        "When asked, atomic B-factors are estimated from the Q-scores as B = f·(1 − Q), with "
        "the scale f chosen so that a map computed from the model with those B-factors "
        "correlates best (CC-mean) with the experimental map. They describe how blurred each "
        "atom's density is; where the model is misfitted they are not meaningful.",
    ),
)

#: Sentence under the inclusion figure: how the default level is chosen.
DEFAULT_LEVEL = (
    "No contour level was given, so the level used is the one at which the map, in the box "
    "read around the model, encloses the model's own volume (the mass of its atoms × 1.21 Å³ per "
    "dalton). Give the level recommended for the map (as deposited with it) with --contour for "
    "the figure the EMDB will show."
)
GIVEN_LEVEL = "The level is the recommended contour level given for the map."
