"""Text from files never becomes markup: the 3D view's HTML and the dashboard's Markdown.

A real model (7cec chain A) is given a residue named ``</script><script>…`` and a chain id with
both quote characters; the 3D view (embedded, or its scene published as JSON) must keep every
script intact and still hand 3Dmol.js an mmCIF it can parse, and the Markdown helpers must show
such names literally.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import gemmi
import numpy as np
import pytest

from app_support.layout import code_span, plain
from qscore.plotting import viewer
from tests.conftest import EMD30342, require
from tests.hostile import EVIL_CHAIN, EVIL_FILE_NAME, EVIL_RESNAME, EVIL_RESSEQ, hostile_model
from tests.viewer_data import residue_scene


class Scripts(HTMLParser):
    """Collects the text of every <script> element as a browser would split it."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._inside = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from qscore.engine import score
    from qscore.io.export import residues_frame
    from qscore.io.maps import read_map
    from qscore.io.models import read_model

    folder = require(EMD30342)
    path = hostile_model(folder / "7cec_chainA.cif", tmp_path_factory.mktemp("evil") / "m.cif")
    model = read_model(path)
    dmap = read_map(folder / "emd_30342_chainA_zone.mrc", crop_to=model.xyz)
    result = score(dmap, model)
    return dmap, model, result, residues_frame(model, result.q)


def test_the_reader_keeps_the_hostile_names(hostile):
    _, model, result, _ = hostile
    assert set(model.chain.tolist()) == {EVIL_CHAIN}
    assert set(model.resname[model.resseq == EVIL_RESSEQ].tolist()) == {EVIL_RESNAME}
    assert 0.3 < result.model_q < 0.45, "renaming must not change the scores"


def _hostile_scene(hostile) -> tuple[str, dict]:
    dmap, model, result, residues = hostile
    row = int(np.flatnonzero(residues["resseq"].to_numpy() == EVIL_RESSEQ)[0])
    label = f"{EVIL_CHAIN} {EVIL_RESSEQ} {EVIL_RESNAME}"
    _, _, scene = residue_scene(
        dmap, model, result.q, residues["q"].to_numpy(), row, label=label, q_good=0.3
    )
    return label, scene


def _check_scene(scene: dict, label: str, atoms: int) -> None:
    """The scene still carries the real names as data and an mmCIF 3Dmol.js can parse."""
    assert scene["label"] == label, "the status shows the real label, as text"
    cif = gemmi.cif.read_string(scene["cif"]).sole_block()
    assert len(cif.find_values("_atom_site.id")) == atoms
    chains = {gemmi.cif.as_string(c) for c in cif.find_values("_atom_site.auth_asym_id")}
    names = {gemmi.cif.as_string(n) for n in cif.find_values("_atom_site.auth_comp_id")}
    assert chains == {'A"`'}, "quotes made harmless"
    assert EVIL_RESNAME in names, "kept as data, not markup"


def test_the_embedded_3d_view_keeps_its_scripts_intact(hostile):
    label, scene = _hostile_scene(hostile)
    html = viewer.viewer_html(scene)
    assert "<script>window.qsInjected" not in html and ">window.qsInjected" not in html
    parser = Scripts()
    parser.feed(html)
    assert len(parser.scripts) == html.count("<script") == html.count("</script>") == 3
    args = next(s for s in parser.scripts if "QS_ARGS" in s)
    embedded = json.loads(re.fullmatch(r"window\.QS_ARGS = (\{.*\});", args.strip()).group(1))
    _check_scene(embedded["scene"], label, len(scene["q"]))
    assert "textContent = target" in viewer.viewer_script(), "the label is shown as text"


def test_the_published_scene_has_no_markup_and_the_page_no_file_text(hostile):
    label, scene = _hostile_scene(hostile)
    text = viewer.scene_json(scene)
    assert "<" not in text and ">" not in text and "&" not in text
    _check_scene(json.loads(text), label, len(scene["q"]))
    page = viewer.viewer_html(follow="[data-qs-scene]", q_peak=0.38, script_url="/s/v.js")
    assert "qsInjected" not in page and "A\"'" not in page


def test_cif_tokens_are_single_tokens():
    for hostile in (EVIL_CHAIN, EVIL_RESNAME, "data_x", "_tag", "a b", "", "#", "é", "a\x00b"):
        token = viewer.cif_token(hostile)
        block = gemmi.cif.read_string(f"data_t\n_x.v {token}\n_x.w 1\n").sole_block()
        assert len(block.find_values("_x.v")) == 1, hostile
    assert viewer.cif_token("a\x00b") == "a_b"
    assert json.loads(viewer.scene_json({"n": EVIL_RESNAME}))["n"] == EVIL_RESNAME


def test_markdown_shows_file_names_literally():
    source = plain(EVIL_FILE_NAME)
    assert re.sub(r"\\(.)", r"\1", source) == EVIL_FILE_NAME
    assert re.search(r"(?<!\\)[<>\[\]()$_*`:]", source) is None, "a special character left bare"
    assert plain("a\nb  c") == "a b c"


def test_a_command_naming_files_is_one_code_span():
    command = f"qscore report {EVIL_FILE_NAME} a``b.mrc -o report.html"
    span = code_span(command)
    fence = re.match(r"`+", span).group(0)
    assert len(fence) == 3 and span.endswith(fence) and span.count(fence) == 2
    assert span[len(fence) + 1 : -len(fence) - 1] == command
    assert code_span("qscore report m.cif") == "`qscore report m.cif`"
