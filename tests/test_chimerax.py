"""ChimeraX hand-off: the .defattr attribute file and the .cxc script, read back line by line
against the formats ChimeraX documents, and the CLI's --chimerax."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from qscore.io import chimerax
from qscore.plotting.viewer import colour_hex


@pytest.fixture(scope="module")
def scored(emd30342_pair):
    from qscore.engine import score
    from qscore.io.export import residues_frame

    dmap, model = emd30342_pair
    q = score(dmap, model).q
    return model, q, residues_frame(model, q)


def _blocks(text: str) -> list[tuple[dict, list[tuple[str, str]]]]:
    """Parse a .defattr as ChimeraX does: control lines 'name: value', data lines
    '<tab>spec<tab>value', '#' comments; a control line after data starts a new block."""
    blocks: list[tuple[dict, list]] = []
    controls: dict = {}
    data: list = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("\t"):
            parts = line[1:].split("\t")
            assert len(parts) == 2, line
            data.append((parts[0], parts[1]))
            continue
        name, value = line.split(": ")
        if data:
            blocks.append((controls, data))
            controls, data = dict(controls), []
        controls[name.strip().lower()] = value.strip()
    blocks.append((controls, data))
    return blocks


def test_defattr_holds_residue_and_atom_q(scored):
    model, q, residues = scored
    text = chimerax.defattr_text(model, q, residues["q"].to_numpy(), source="x\ny")
    assert text.startswith("# Q-scores from qscore: x y\n")
    (res_controls, res_data), (atom_controls, atom_data) = _blocks(text)
    assert res_controls == {"attribute": "qscore", "recipient": "residues", "match mode": "any"}
    assert atom_controls["recipient"] == "atoms" and atom_controls["attribute"] == "qscore"
    finite = residues[np.isfinite(residues["q"])]
    assert len(res_data) == len(finite)
    values = dict(res_data)
    for _, row in finite.sample(40, random_state=0).iterrows():
        spec = f"/{row['chain']}:{int(row['resseq'])}{row['icode'] or ''}"
        assert float(values[spec]) == pytest.approx(row["q"], abs=5e-5)
    assert len(atom_data) == int((model.heavy & np.isfinite(q)).sum())
    first = np.flatnonzero(model.heavy)[0]
    spec = f"/{model.chain[first]}:{int(model.resseq[first])}@{model.name[first]}"
    assert float(dict(atom_data)[spec]) == pytest.approx(q[first], abs=5e-5)
    assert all(re.fullmatch(r"/[A-Za-z0-9]+:-?\d+[A-Za-z]?(@\S+)?", s) for s, _ in atom_data)


def test_specs_and_bad_names():
    assert chimerax.residue_spec("B", 100, "A") == "/B:100A"
    assert chimerax.residue_spec("A", -3, "") == "/A:-3"
    with pytest.raises(chimerax.ChimeraXError):
        chimerax.residue_spec("A B", 1)
    with pytest.raises(chimerax.ChimeraXError):
        chimerax.cxc_text('a"b.cif', "m.mrc", "q.defattr", 0.4)
    with pytest.raises(chimerax.ChimeraXError):
        chimerax.palette(float("nan"))


def test_script_opens_colours_like_the_dashboard_and_centres():
    text = chimerax.cxc_text(
        "model dir/7cec.cif", "emd.mrc", "7cec_qscore.defattr", 0.38, focus="/A:45", level=0.0432
    )
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert commands[:4] == [
        "close session",
        'open "model dir/7cec.cif"',
        'open "emd.mrc"',
        'open "7cec_qscore.defattr"',
    ]
    colour = next(c for c in commands if c.startswith("color byattribute r:qscore"))
    stops = re.search(r"palette (\S+)", colour).group(1).split(":")
    pairs = [s.split(",") for s in stops]
    assert [float(v) for v, _ in pairs] == pytest.approx([0.0, 0.19, 0.38])
    assert [c for _, c in pairs] == colour_hex(np.array([0.0, 0.19, 0.38]), 0.38)
    assert "#1 target acr" in colour and "noValueColor" in colour
    assert "volume #2 style mesh color #3a9d48 level 0.0432" in commands
    assert commands[-1] == "view #1/A:45"
    assert "volume zone #2 nearAtoms #1/A:45 range 6" in commands
    assert any(c.startswith("color byattribute a:qscore #1/A:45 target a") for c in commands)
    whole = chimerax.cxc_text("m.cif", "m.mrc", "q.defattr", 0.5)
    assert whole.splitlines()[-1] == "view" and "level" not in whole


def test_cli_writes_both_files_next_to_each_other(emd30342, tmp_path, capsys):
    from qscore.cli.main import main

    out = tmp_path / "handoff" / "check.cxc"
    out.parent.mkdir()
    map_path = emd30342 / "emd_30342_chainA_zone.mrc"
    model_path = emd30342 / "7cec_chainA.cif"
    code = main(["score", str(map_path), str(model_path), "--chimerax", str(out), "--json", "-"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["chimerax"] == [str(out), str(out.with_suffix(".defattr"))]
    text = out.read_text()
    opened = re.findall(r'^open "(.*)"$', text, flags=re.MULTILINE)
    assert len(opened) == 3
    assert [(out.parent / p).resolve() for p in opened[:2]] == [
        model_path.resolve(),
        map_path.resolve(),
    ]
    assert opened[2] == "check.defattr" and out.with_suffix(".defattr").is_file()
    view = re.search(r"^view #1(/\S+)$", text, flags=re.MULTILINE).group(1)
    level = float(re.search(r" level (\S+)$", text, flags=re.MULTILINE).group(1))
    assert math.isfinite(level) and level > 0
    # Centred on the residue furthest below the band, as the walk orders it.
    from qscore.analysis.outliers import ORDERS, outlier_rows
    from qscore.engine import score
    from qscore.io.export import residues_frame
    from qscore.io.maps import read_map
    from qscore.io.models import read_model

    model = read_model(model_path)
    q = score(read_map(map_path, crop_to=model.xyz, margin=5.0), model).q
    residues = residues_frame(model, q)
    worst = residues.loc[outlier_rows(residues, 3.9, 0.4, order=ORDERS[1])[0]]
    assert view == f"/{worst['chain']}:{int(worst['resseq'])}"


def test_cli_name_without_suffix_gets_one(emd30342, tmp_path):
    from qscore.cli.main import main

    target = tmp_path / "handoff"
    args = [
        "score",
        str(emd30342 / "emd_30342_chainA_zone.mrc"),
        str(emd30342 / "7cec_chainA.cif"),
        "--chimerax",
        str(target),
    ]
    assert main(args) == 0
    assert Path(str(target) + ".cxc").is_file() and Path(str(target) + ".defattr").is_file()
