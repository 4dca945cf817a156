"""The lessons: for each teaching scenario (by key of :mod:`qscore.synthetic.examples`), the
choice students commit to before they see any number, the answer with the paper's reasoning,
and one or two exercises with their answers.

Texts may quote measured numbers as ``str.format`` fields (``{model_q:.2f}``,
``{groups[0][q]:.2f}``, ``{pose_q[correct]:.2f}``, …), filled in by
:func:`qscore.synthetic.lessons.facts.render` from the scored scenario; the fields are listed in
:func:`qscore.synthetic.lessons.facts.lesson_facts`. Nothing here may give an answer away in a
text shown before the reveal (the scenario's title and explanation, the regions' labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One answer students can commit to: a key, a short label and what it means."""

    key: str
    label: str
    meaning: str


@dataclass(frozen=True)
class Question:
    """An exercise for the class and its answer (shown once the scenario is revealed)."""

    text: str
    answer: str


@dataclass(frozen=True)
class Region:
    """Atoms to show in the density before the reveal: a chain, optionally some residues."""

    label: str
    chain: str
    resseq: tuple[int, ...] = ()


#: What students choose between, unless a lesson needs its own choices.
CATEGORIES: tuple[Choice, ...] = (
    Choice(
        "as-expected", "As expected", "Model and map agree as well as is usual at this resolution."
    ),
    Choice("misfit", "Misfit", "Part of the model sits outside its density."),
    Choice(
        "poorly-resolved",
        "Poorly resolved",
        "The model is placed right, but part of the map is weak or smeared (flexibility, "
        "conformational heterogeneity, radiation damage).",
    ),
    Choice(
        "oversharpened",
        "Oversharpened",
        "The map was sharpened, and the model refined into it, beyond what its resolution "
        "supports.",
    ),
    Choice(
        "resolution-overstated",
        "Resolution overstated",
        "The map is worse than its reported resolution.",
    ),
    Choice(
        "resolution-understated",
        "Resolution understated",
        "The map is better than its reported resolution.",
    ),
)
PROMPT = "What is going on in this map and model?"
#: The ladder's residue pictured beside this scenario's map, at these resolutions.
REFERENCES = (2.5, 3.5)


@dataclass(frozen=True)
class Lesson:
    """What a scenario teaches.

    ``answer`` is the key of the right :class:`Choice`; ``truth`` says what was done to the
    data; ``reasoning`` reads the scores as the paper does. Before the reveal students see the
    scenario's story and the density of ``regions`` (atoms coloured by element, no score), and,
    when ``references`` is set, one side chain of this map beside the same residue in the
    ladder maps at those resolutions. ``poses`` renames a scenario's alternative models (file
    name → neutral label) until the reveal; ``true_resolution`` is the resolution the map was
    really made at, when it differs from the reported one. ``clue`` is shown with the story
    before the guess (it may quote measured numbers that do not give the answer away, such as
    the local resolution of the regions).
    """

    key: str
    answer: str
    truth: str
    reasoning: str
    questions: tuple[Question, ...]
    prompt: str = PROMPT
    choices: tuple[Choice, ...] = CATEGORIES
    regions: tuple[Region, ...] = ()
    references: tuple[float, ...] = ()
    poses: dict[str, str] = field(default_factory=dict)
    true_resolution: float | None = None
    clue: str = ""

    def choice(self, key: str | None) -> Choice | None:
        """The choice with this key, or None."""
        return next((c for c in self.choices if c.key == key), None)

    @property
    def right(self) -> Choice:
        """The right answer."""
        found = self.choice(self.answer)
        if found is None:
            raise KeyError(f"lesson {self.key!r}: the answer {self.answer!r} is not a choice")
        return found

    def is_right(self, key: str | None) -> bool:
        """True when ``key`` is the right answer."""
        return key == self.answer


def _ladder(d: float, reasoning: str, *questions: Question) -> Lesson:
    return Lesson(
        key=f"ladder-{d:g}",
        answer="as-expected",
        truth=(
            "Nothing was done to this model: it is the one the map was simulated from, with "
            "B-factors typical of a {d:g} Å map, and the map is as good as its reported "
            "resolution."
        ),
        reasoning=reasoning,
        questions=questions,
    )


_LADDER = (
    _ladder(
        1.5,
        "Model Q {model_q:.2f} lies next to Q_peak {q_peak:.2f}, the value most often seen in "
        "the EMDB at {d:g} Å, well inside the 95% band ({q_low95:.2f}–{q_high95:.2f}). At this "
        "resolution single atoms are separate peaks, so the map around each atom has the shape "
        "of the reference Gaussian; the paper finds Q-scores near 1 for such maps (Fig. 1b).",
        Question(
            "The ring of the phenylalanine has a hole in its middle. What does that say about "
            "the map, and which Q-scores go with it?",
            "The map separates neighbouring atoms, which takes near-atomic resolution (about "
            "1.5 Å or better). Atoms that stand alone as peaks score near 1: here the backbone "
            "scores {backbone_q:.2f} and the side chains {sidechain_q:.2f}.",
        ),
        Question(
            "Is a Q of {model_q:.2f} a property of the model alone?",
            "No. Q measures how well each atom is resolved in this map, so it depends on the "
            "map as much as on the model: the same model scores lower in the 2.5, 3.5 and 6 Å "
            "maps of the next scenarios. Always read Q next to the resolution.",
        ),
    ),
    _ladder(
        2.5,
        "Model Q {model_q:.2f} is close to Q_peak {q_peak:.2f} at {d:g} Å and inside the band. "
        "Rings are still rings and side chains keep their shape; the model is the same as at "
        "1.5 Å, only the map holds less detail, so every atom's density is wider than the "
        "0.4 Å reference Gaussian and Q is lower (the paper's Fig. 1b–f).",
        Question(
            "Q dropped from the 1.5 Å scenario. Did the model get worse?",
            "No: the coordinates are identical. A map with less detail spreads each atom's "
            "density, so it correlates less with the narrow reference Gaussian. Q_peak falls "
            "with resolution for the same reason (equations 1 and 2).",
        ),
        Question(
            "Which model Q-scores would still count as 'as commonly observed' at {d:g} Å?",
            "Those between Q_low_95% = {q_low95:.2f} and Q_high_95% = {q_high95:.2f}: 95% of "
            "the EMDB's entries at {d:g} Å lie in this band (equations 3 and 4).",
        ),
    ),
    _ladder(
        3.5,
        "Model Q {model_q:.2f} is near Q_peak {q_peak:.2f} at {d:g} Å. Side chains have become "
        "single smooth lobes; in the paper Q-scores near 0.5 go with side chains that are "
        "resolved but no longer show their atoms (Fig. 1d).",
        Question(
            "Open the per-residue page. Which scores higher, the backbone or the side chains, "
            "and why?",
            "The backbone ({backbone_q:.2f} against {sidechain_q:.2f} for the side chains). "
            "Backbone atoms are held in place by the chain on both sides, while side chains "
            "move more and their density fades toward their tips.",
        ),
        Question(
            "A colleague calls a model Q of {model_q:.2f} poor. Is it, at {d:g} Å?",
            "No: it is what most EMDB entries at {d:g} Å reach (Q_peak {q_peak:.2f}), so its "
            "Q_relative_resolution on the overview is near the middle of the range.",
        ),
    ),
    _ladder(
        6.0,
        "Model Q {model_q:.2f} is near Q_peak {q_peak:.2f} at {d:g} Å. Side chains have merged "
        "with their neighbours and only the helices stand out, as rods; the paper finds Q-scores "
        "around 0.2 for such maps (Fig. 1g–i).",
        Question(
            "Between 5 and 10 Å, Q changes little with resolution. What does that mean for "
            "using it there?",
            "Q is less sensitive in this range (the band at {d:g} Å spans {q_low95:.2f}–"
            "{q_high95:.2f}), so it tells a good fit from a better one poorly. It still flags "
            "gross problems: a Q near 0 at 6 Å points to a model that is not in its density.",
        ),
        Question(
            "Why do the side chains score so much lower than the backbone here "
            "({sidechain_q:.2f} against {backbone_q:.2f})?",
            "At 6 Å side chains are not resolved at all: their atoms sit in the blurred density "
            "of the helix as a whole, which does not peak at each atom.",
        ),
    ),
)

_SCENARIO_LESSONS = (
    Lesson(
        key="misfit-segment",
        answer="misfit",
        regions=(Region("second helix", "A", tuple(range(54, 70))),),
        truth=(
            "Ten residues of the second helix ({groups[0][where]}) were moved 3 Å sideways, out "
            "of their density, as when a segment is built into the wrong density or left "
            "behind during fitting."
        ),
        reasoning=(
            "The moved residues score {groups[0][q]:.2f}, below Q_low_95% = {q_low95:.2f}, "
            "while the rest of the model scores {rest_q:.2f}, inside the band. Model Q "
            "({model_q:.2f}) is inside the band as well, so only the per-residue view shows the "
            "problem. In the paper (Fig. 2b, d) models below the band were misfits, and fitting "
            "them properly brought their Q back into the band."
        ),
        questions=(
            Question(
                "Model Q is inside the 95% band. Why is that not enough to call the model fine?",
                "Model Q averages over all {atoms} scored atoms; ten bad residues out of 108 "
                "lower it only a little. Per-residue Q-scores, and the 3D view coloured by Q, "
                "find the local problems the average hides.",
            ),
            Question(
                "How do you tell a misfit from a poorly resolved region of the map?",
                "In a misfit the density is there and strong, but beside the atoms: the picture "
                "shows the helix's density next to the model. In a poorly resolved region the "
                "atoms sit in weak, smeared density. Q is low in both; the map tells them apart.",
            ),
        ),
    ),
    Lesson(
        key="oversharpened",
        answer="oversharpened",
        references=REFERENCES,
        truth=(
            "The map was simulated at 3 Å, sharpened with B = −60 Å² and given very little "
            "noise, and the model is exactly the one the map was made from, as if it had been "
            "refined into the sharpened map."
        ),
        reasoning=(
            "Model Q {model_q:.2f} is above Q_high_95% = {q_high95:.2f} at {d:g} Å: atoms look "
            "sharper than 3 Å maps normally allow, and the model fits exactly that map. The "
            "paper's Fig. 2(c) shows such an outlier, a map that looks discontinuous and noisy: "
            "a little oversharpening can raise Q, above all when the model is refined into the "
            "sharpened map, whereas strong oversharpening amplifies noise and lowers Q."
        ),
        questions=(
            Question(
                "Would sharpening the map even more keep raising Q?",
                "No. Sharpening boosts the high frequencies, noise included; beyond a point the "
                "map breaks up into noisy, discontinuous density and Q falls again.",
            ),
            Question(
                "A Q above the band has another common cause. Which one, and how would you tell "
                "the two apart?",
                "A resolution reported too cautiously (a later scenario). An "
                "oversharpened map looks noisy and broken up, and its sharpening B-factor is on "
                "record; a map that is simply better than reported looks clean and detailed "
                "everywhere.",
            ),
        ),
    ),
    Lesson(
        key="resolution-overstated",
        answer="resolution-overstated",
        references=REFERENCES,
        true_resolution=5.0,
        truth="The map was made at 5 Å but is reported at 3 Å; the model is correct.",
        reasoning=(
            "A correct model cannot score better than its map allows. Model Q {model_q:.2f} is "
            "below Q_low_95% = {q_low95:.2f} for the reported {d:g} Å, and evenly so: nearly "
            "every residue is low, not one region. It is close to Q_peak at the map's real "
            "resolution of {true_d:g} Å ({true_q_peak:.2f}). The paper reads a Q below the band "
            "as a misfit or a map worse than reported; a low Q_relative_resolution says the same."
        ),
        questions=(
            Question(
                "Per-residue Q is low almost everywhere. What does that say that a low model Q "
                "alone does not?",
                "A misfit is local: one stretch drops while the rest stays in the band. Low "
                "scores everywhere while the model sits in its density point at the map, or at "
                "the number that describes it.",
            ),
            Question(
                "What would you check first?",
                "The FSC curve and how it was computed (the mask, the threshold, particles "
                "counted twice), and the local resolution. The density picture gives it away "
                "too: the side chain looks like the 3.5 Å map or worse, not like a 3 Å map.",
            ),
        ),
    ),
    Lesson(
        key="resolution-understated",
        answer="resolution-understated",
        references=REFERENCES,
        true_resolution=2.0,
        truth="The map was made at 2 Å but is reported at 3 Å; the model is correct.",
        reasoning=(
            "Model Q {model_q:.2f} is above Q_high_95% = {q_high95:.2f} at the reported {d:g} Å "
            "and close to Q_peak at the map's real resolution of {true_d:g} Å "
            "({true_q_peak:.2f}). The density picture agrees: the side chain is better defined "
            "than in the 2.5 Å map. The paper's Fig. 2(e) is such a case, a map resolved better "
            "than its reported value. A mask holding a lot of solvent adds noise to the FSC and "
            "makes the resolution look worse than it is."
        ),
        questions=(
            Question(
                "Is a Q above the band a problem for the model?",
                "Not for the model: for the map's description, since the reported {d:g} Å "
                "undersells it. The overview's Q_relative_resolution is close to 100%: hardly "
                "any EMDB entry at {d:g} Å scores this high.",
            ),
            Question(
                "How would you tell this map from the oversharpened one?",
                "This model was not refined into a sharpened map, and the map is clean and "
                "detailed everywhere; an FSC recomputed inside a tighter mask would report "
                "about {true_d:g} Å.",
            ),
        ),
    ),
    Lesson(
        key="flexible-loop",
        answer="poorly-resolved",
        regions=(
            Region("loop", "A", tuple(range(47, 54))),
            Region("ARG side chain", "A", (83,)),
        ),
        truth=(
            "The model is right everywhere. The loop {groups[0][where]} moves (its B-factors "
            "are five times higher) and the side chain of {groups[1][where]} is disordered, so "
            "their density is weak and smeared."
        ),
        reasoning=(
            "The loop scores {groups[0][q]:.2f} and the ARG side chain {groups[1][q]:.2f}, both "
            "below Q_low_95% = {q_low95:.2f}, although every atom is where it belongs. A low Q "
            "says that the map does not resolve these atoms, whatever the cause: besides "
            "misfitting, the paper names flexibility, conformational heterogeneity, radiation "
            "damage and charged groups (Fig. 3c–e)."
        ),
        questions=(
            Question(
                "Should the modeller move the loop to raise its Q?",
                "No. The atoms already sit in the middle of the weak density; there is no "
                "better density to move them into. Low Q here marks coordinates the map cannot "
                "confirm, not coordinates that are wrong.",
            ),
            Question(
                "What in the density rules out a misfit?",
                "The density is weak and spread out but centred on the atoms. In a misfit "
                "(the helix scenario) strong density sits next to the atoms instead.",
            ),
        ),
    ),
    Lesson(
        key="ligand-pose",
        prompt="Which pose does the map support?",
        choices=(
            Choice("pose-a", "Pose A", "The map supports pose A; pose B is a misfit."),
            Choice("pose-b", "Pose B", "The map supports pose B; pose A is a misfit."),
            Choice("both", "Both equally", "The map cannot tell the two poses apart."),
        ),
        answer="pose-b",
        poses={"flipped": "A", "correct": "B"},
        truth=(
            "Pose A is pose B turned 180° about the ligand's long axis: the rings still overlap "
            "the density, but the substituents point the wrong way."
        ),
        reasoning=(
            "In the same map pose B scores {pose_q[correct]:.2f} (Q_peak at {d:g} Å is "
            "{q_peak:.2f}) and pose A {pose_q[flipped]:.2f}. Both lie within the band, but the "
            "atoms of pose A that moved into empty space lose Q, and that is enough to tell the "
            "poses apart. The paper compares two poses of the PTQ ligand in two maps of "
            "β-galactosidase (Fig. 4e–j): the pose that scored lower in both maps was judged "
            "unlikely."
        ),
        questions=(
            Question(
                "Pose A still scores inside the band. Why is it still the wrong one?",
                "The band describes whole models across the archive; here the question is which "
                "of two poses fits one map better. Comparing them in the same map removes "
                "everything the map itself does to Q, and pose B is higher by {pose_gap:.2f}.",
            ),
            Question(
                "How large must a difference be before you trust it?",
                "Larger than the noise. The paper checked both poses in a second, independent "
                "map of the same complex; a difference that holds in both maps is convincing. "
                "Per-atom Q also shows where the poses differ: at the substituents.",
            ),
        ),
    ),
    Lesson(
        key="glycan",
        answer="poorly-resolved",
        regions=(Region("glycan", "G"),),
        truth=(
            "One terminal mannose ({groups[0][where]}) is mobile (its B-factors are six times "
            "higher), so its density is weak; the other four saccharides are ordered."
        ),
        reasoning=(
            "The mobile mannose scores {groups[0][q]:.2f}, below Q_low_95% = {q_low95:.2f} and "
            "below the other saccharides ({groups[0][chain_rest_q]:.2f} on average), which lie "
            "within the band. The paper's NL63 spike glycans look the same (Fig. 4a–d): most "
            "saccharides within the band, a few not resolved, likely because of conformational "
            "heterogeneity."
        ),
        questions=(
            Question(
                "Which saccharides does the map support, and what would you do with the rest?",
                "The four within the band. The mannose {groups[0][where]} can stay in the model "
                "as chemically plausible, but the map does not support its position: say so in "
                "the deposition, for example with high B-factors or a remark.",
            ),
            Question(
                "Why are terminal saccharides often the least resolved?",
                "They hang on one glycosidic bond and touch little else, so they move more than "
                "the saccharides next to the protein, and their density smears out.",
            ),
        ),
    ),
    Lesson(
        key="nucleic-acid",
        answer="poorly-resolved",
        regions=(Region("RNA strand", "N"),),
        truth=(
            "Nucleotides {groups[0][where]} are conformationally heterogeneous (their "
            "B-factors are five times higher); the rest of the strand is ordered."
        ),
        reasoning=(
            "The heterogeneous stretch scores {groups[0][q]:.2f}, below Q_low_95% = "
            "{q_low95:.2f}, while the rest of the strand scores {groups[0][chain_rest_q]:.2f}, "
            "within the band. The paper's Tetrahymena ribozyme has a region like this "
            "(Fig. 3f, g), likely from conformational heterogeneity."
        ),
        questions=(
            Question(
                "The per-residue page splits each nucleotide into phosphate, sugar and base. "
                "Are all three low in the stretch?",
                "Yes: phosphate {groups[0][phosphate_q]:.2f}, sugar {groups[0][sugar_q]:.2f} and "
                "base {groups[0][base_q]:.2f}. The whole nucleotide moves, not one part of it; a "
                "base flipped out of place would lower the base alone.",
            ),
            Question(
                "How would you show these nucleotides in a figure?",
                "Colour the model by nucleotide Q, as the 3D page does, so that readers see "
                "which part of the strand the map supports.",
            ),
        ),
    ),
)

_LOCAL = Lesson(
    key="local-resolution",
    prompt="Which stretch does the model not follow?",
    choices=(
        Choice(
            "first",
            "A7–A13",
            "A7–A13 is a misfit; A74–A108 is only poorly resolved.",
        ),
        Choice(
            "second",
            "A74–A108",
            "A74–A108 is a misfit; A7–A13 is poorly resolved.",
        ),
        Choice("both", "Both", "Both stretches are misfits."),
        Choice(
            "neither",
            "Neither",
            "Both stretches are poorly resolved; the model follows the map everywhere.",
        ),
    ),
    answer="first",
    regions=(
        Region("A7–A13", "A", tuple(range(7, 14))),
        Region("A74–A108", "A", (*range(74, 109),)),
    ),
    clue=(
        "Local resolution: A7–A13 at {local[misfit][local_d]:.1f}\u00a0Å, A74–A108 at "
        "{local[flexible][local_d]:.1f}\u00a0Å."
    ),
    truth=(
        "Residues {local[misfit][where]} were moved 2.5 Å off their density, in a part of the "
        "map resolved at the reported {d:g} Å. Residues {local[flexible][where]}, the last two "
        "helices, were made at about {local[flexible][local_d]:.0f} Å, as a flexible domain "
        "would be, and sit in the middle of their blurred density."
    ),
    reasoning=(
        "At the reported {d:g} Å both stretches fall below Q_low_95% = {q_low95:.2f} "
        "({local[misfit][below_global]:.0%} and {local[flexible][below_global]:.0%} of their "
        "residues), while model Q ({model_q:.2f}) stays inside the band. At its own local "
        "resolution of {local[misfit][local_d]:.1f} Å, {local[misfit][where]} still scores "
        "{local[misfit][q]:.2f}, below that band's floor ({local[misfit][q_low95_local]:.2f}): a "
        "misfit. {local[flexible][where]}, at {local[flexible][local_d]:.1f} Å, scores "
        "{local[flexible][q]:.2f}, above its floor ({local[flexible][q_low95_local]:.2f}): poorly "
        "resolved, not misfit. The paper names this limit of one reported resolution in its "
        "section 8."
    ),
    questions=(
        Question(
            "On the Local resolution page, which residues read as a possible misfit, and which "
            "as a poorly resolved region?",
            "{local[misfit][below_local]:.0%} of the residues of {local[misfit][where]} are below "
            "the band at their own local resolution (possible misfit) against "
            "{local[flexible][below_local]:.0%} of those of {local[flexible][where]}, which read "
            "as a poorly resolved region. Only {local[misfit][where]} needs refitting.",
        ),
        Question(
            "Where does a local-resolution map come from, and why check it before trusting "
            "these readings?",
            "It is estimated from the two half maps with a local FSC (the page can do it from "
            "this scenario's half maps too). An estimate that is too pessimistic in a region "
            "would excuse a real misfit there as poorly resolved, so look at the half maps' mask "
            "and the estimate's window before relying on it.",
        ),
    ),
)

#: Every lesson by scenario key.
LESSONS: dict[str, Lesson] = {
    lesson.key: lesson for lesson in (*_LADDER, *_SCENARIO_LESSONS, _LOCAL)
}


def lesson_for(key: str | None) -> Lesson | None:
    """The lesson of scenario ``key``, or None when it has none."""
    return LESSONS.get(key) if key else None
