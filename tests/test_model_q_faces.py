"""One model Q on every face: a model with riding hydrogens scored by the engine, ``qscore score``,
``qscore bfactor``, the batch runner and the dashboard gives the same number, MapQ's (the mean
over scored non-hydrogen atoms), and the batch runner states each note once."""

from __future__ import annotations

import json
from pathlib import Path

import gemmi
import numpy as np
import pytest

from qscore.cli.main import main
from tests.conftest import EMD30342, mapq_scores, require

ROOT = Path(__file__).resolve().parents[1]
MAP = "emd_30342_chainA_zone.mrc"
#: C–H bond length (Å) of the riding hydrogens.
CH_BOND = 1.09


def add_riding_hydrogens(model: Path, out: Path, *, resolution: float) -> int:
    """Write ``model`` with one H per CA (on the bisector away from N and C) as mmCIF.

    The file records ``resolution`` as ``_em_3d_reconstruction.resolution``; returns the number
    of hydrogens added.
    """
    structure = gemmi.read_structure(str(model))
    added = 0
    for residue in structure[0]["A"]:
        atoms = {a.name: np.array(a.pos.tolist()) for a in residue if a.name in ("N", "CA", "C")}
        if len(atoms) < 3:
            continue
        direction = 2 * atoms["CA"] - atoms["N"] - atoms["C"]
        position = atoms["CA"] + CH_BOND * direction / np.linalg.norm(direction)
        hydrogen = gemmi.Atom()
        hydrogen.name = "HA"
        hydrogen.element = gemmi.Element("H")
        hydrogen.pos = gemmi.Position(*position)
        hydrogen.occ = 1.0
        hydrogen.b_iso = 30.0
        residue.add_atom(hydrogen)
        added += 1
    structure.setup_entities()
    document = structure.make_mmcif_document()
    document.sole_block().set_pair("_em_3d_reconstruction.resolution", f"{resolution:g}")
    document.write_file(str(out))
    return added


@pytest.fixture(scope="module")
def with_hydrogens(tmp_path_factory) -> tuple[Path, Path, int]:
    """(map, 7cec chain A with one riding H per CA, number of hydrogens)."""
    folder = require(EMD30342)
    path = tmp_path_factory.mktemp("hydrogens") / "7cec_chainA_H.cif"
    added = add_riding_hydrogens(folder / "7cec_chainA.cif", path, resolution=3.9)
    return folder / MAP, path, added


@pytest.fixture(scope="module")
def expected_q(with_hydrogens) -> float:
    """The expected model Q (sigma 0.4): the plain mean per-atom Q of the H-free model.

    Riding hydrogens are not neighbours, so every heavy atom keeps the Q it has without them.
    """
    from qscore.pipeline import load_and_score

    map_path, _, _ = with_hydrogens
    plain = load_and_score(map_path, EMD30342 / "7cec_chainA.cif").result.q
    assert np.isfinite(plain).all()
    return float(np.mean(plain))


def test_engine_model_q_leaves_the_hydrogens_out(with_hydrogens, expected_q):
    from qscore.pipeline import load_and_score

    map_path, model_path, added = with_hydrogens
    scored = load_and_score(map_path, model_path)
    assert added > 500
    assert int(scored.model.is_hydrogen.sum()) == added
    assert np.all(scored.model.hydrogen_parent[scored.model.is_hydrogen] >= 0)
    assert scored.result.model_q == pytest.approx(expected_q, abs=1e-12)
    # Averaging the hydrogens' copied Q in would give another number.
    assert abs(float(np.nanmean(scored.result.q)) - expected_q) > 0.01


def test_model_q_with_hydrogens_is_mapq_model_q(with_hydrogens):
    from qscore.pipeline import load_and_score

    map_path, model_path, _ = with_hydrogens
    result = load_and_score(map_path, model_path, sigma=0.6).result
    mapq = mapq_scores(EMD30342 / "mapq_single_process_sigma0.6.cif")
    # MapQ's per-atom output has 3 decimals, so its mean carries at most 0.0005 of rounding.
    assert result.model_q == pytest.approx(float(mapq.mean()), abs=5e-4)


def test_cli_score_json(with_hydrogens, expected_q, capsys):
    map_path, model_path, _ = with_hydrogens
    assert main(["score", str(map_path), str(model_path), "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model_q"] == pytest.approx(expected_q, abs=1e-12)
    assert doc["chains"]["A"] == pytest.approx(expected_q, abs=1e-12)


def test_cli_bfactor_json(with_hydrogens, expected_q, capsys):
    map_path, model_path, _ = with_hydrogens
    code = main(["bfactor", str(map_path), str(model_path), "--f-range", "0:100:50", "--json", "-"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["model_q"] == pytest.approx(expected_q, abs=1e-12)


def test_batch_runner_gives_the_same_model_q_and_each_note_once(
    with_hydrogens, expected_q, tmp_path
):
    import pandas as pd

    from qscore.batch.runner import run_batch

    map_path, model_path, added = with_hydrogens
    manifest = pd.DataFrame(
        [{"id": "7cec-H", "map": str(map_path), "model": str(model_path), "resolution": ""}]
    )
    frame = run_batch(manifest, tmp_path / "out", workers=1)
    row = frame.set_index("id").loc["7cec-H"]
    assert row["status"] == "ok", row["error"]
    assert row["model_q"] == pytest.approx(expected_q, abs=1e-12)
    assert row["resolution"] == pytest.approx(3.9)
    hydrogen_note = f"{added} hydrogen/deuterium atoms are not scored"
    assert row["notes"].count(hydrogen_note) == 1


def test_dashboard_overview_gives_the_same_model_q(with_hydrogens, expected_q, monkeypatch):
    from streamlit.testing.v1 import AppTest

    map_path, model_path, _ = with_hydrogens
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("QSCORE_ALLOW_LOCAL_PATHS", "1")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.text_input(key="qs.map_path").input(str(map_path))
    at.text_input(key="qs.model_path").input(str(model_path)).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metric = [m for m in at.metric if m.label == "Model Q"][0]
    assert metric.value == f"{expected_q:.3f}"
    assert any(f"model Q **{expected_q:.3f}**" in c.value for c in at.caption)
