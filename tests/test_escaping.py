"""Text from files never becomes markup: the 3D view's HTML and the dashboard's Markdown.

A real model (7cec chain A) is given a residue named ``</script><script>…`` and a chain id with
both quote characters; the 3D view must keep every script intact and still hand 3Dmol.js an
mmCIF it can parse, and the Markdown helper must show such names literally.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import gemmi
import numpy as np
import pytest

from app_support.layout import plain
from qscore.plotting import viewer
from tests.conftest import EMD30342, require
from tests.hostile import EVIL_CHAIN, EVIL_FILE_NAME, EVIL_RESNAME, EVIL_RESSEQ, hostile_model


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


def test_the_3d_view_keeps_its_scripts_intact(hostile):
    dmap, model, result, residues = hostile
    row = int(np.flatnonzero(residues["resseq"].to_numpy() == EVIL_RESSEQ)[0])
    atoms = np.arange(model.residues.at[row, "start"], model.residues.at[row, "stop"])
    label = f"{EVIL_CHAIN} {EVIL_RESSEQ} {EVIL_RESNAME}"
    focus = viewer.Focus(label, atoms, result.q[atoms])
    html = viewer.viewer_html(
        model, residues["q"].to_numpy(), result.q, 0.38, focus=focus, dmap=dmap, contour=0.05
    )
    assert "<script>window.qsInjected" not in html and "</script><script>window" not in html
    parser = Scripts()
    parser.feed(html)
    assert len(parser.scripts) == html.count("<script") == html.count("</script>")
    model_call = next(s for s in parser.scripts if ".addModel(" in s)
    literal = re.search(r"\.addModel\(((?:\"(?:[^\"\\]|\\.)*\"))", model_call).group(1)
    cif = gemmi.cif.read_string(json.loads(literal)).sole_block()
    chains = set(cif.find_values("_atom_site.auth_asym_id"))
    names = set(cif.find_values("_atom_site.auth_comp_id"))
    assert len(cif.find_values("_atom_site.id")) == int(model.heavy.sum())
    assert {gemmi.cif.as_string(c) for c in chains} == {"A_'"}, "quotes made harmless"
    assert EVIL_RESNAME in {gemmi.cif.as_string(n) for n in names}, "kept as data, not markup"
    status = next(s for s in parser.scripts if "qs-status" in s)
    target = re.search(r"status\.dataset\.zoomTarget = (\"(?:[^\"\\]|\\.)*\");", status).group(1)
    assert json.loads(target) == label, "the status shows the real label, as text"


def test_cif_values_are_single_tokens():
    assert viewer.cif_value("ASP") == "ASP" and viewer.cif_value("C1'") == '"C1\'"'
    for hostile in (EVIL_CHAIN, EVIL_RESNAME, "data_x", "_tag", "a b", "", "#", "é"):
        token = viewer.cif_value(hostile)
        block = gemmi.cif.read_string(f"data_t\n_x.v {token}\n").sole_block()
        assert len(block.find_values("_x.v")) == 1, hostile
    assert viewer.js_literal("</script>&") == '"\\u003c/script\\u003e\\u0026"'
    assert json.loads(viewer.js_literal(EVIL_RESNAME)) == EVIL_RESNAME


def test_markdown_shows_file_names_literally():
    source = plain(EVIL_FILE_NAME)
    assert re.sub(r"\\(.)", r"\1", source) == EVIL_FILE_NAME
    assert re.search(r"(?<!\\)[<>\[\]()$_*`:]", source) is None, "a special character left bare"
    assert plain("a\nb  c") == "a b c"
